namespace Gatehouse.Observability;

/// <summary>
/// Every event id Gatehouse logs with, in one table so that no two units pick the same number. Operators may alert
/// on these ids: keep an id once it is released, and never give it to another event. A new unit takes a free block.
/// <c>LogEventsTests</c> fails on a duplicate, an unset id, or a <c>[LoggerMessage]</c> id missing from this table.
/// </summary>
internal static class LogEvents
{
    // Host 1xx: start and config reloads.
    public const int HostStarted = 100;
    public const int ConfigReloaded = 101;
    public const int ConfigReloadRefused = 102;
    public const int RestartNeeded = 103;
    public const int ConfigReloadFailed = 104;

    // Gateway errors 10xx: what the gateway itself answers with a problem.
    public const int UnhandledError = 1001;
    public const int BadRequest = 1002;

    // Redis connections 13xx (shared by rate limiting and caching).
    public const int RedisNotConnected = 1301;
    public const int RedisConnectionLost = 1302;
    public const int RedisConnectionRestored = 1303;

    // Response caching 16xx.
    public const int CacheStaleIfError = 1601;
    public const int CacheRefreshFailed = 1602;
    public const int CacheStoreFailed = 1603;

    // Forwarding 20xx: failures of the proxied call.
    public const int ForwardingFailed = 2001;
    public const int ClientAborted = 2002;

    // Request limits 30xx.
    public const int UrlTooLong = 3001;
    public const int HeadersTooLarge = 3002;
    public const int AmbiguousFraming = 3003;
    public const int BodyTooLarge = 3004;
    public const int MalformedRequest = 3005;

    // IP filter 40xx.
    public const int IpDenied = 4001;

    // Resilience 50xx: circuit breakers, retries, concurrency limits, timeouts.
    public const int BreakerOpened = 5001;
    public const int BreakerHalfOpen = 5002;
    public const int BreakerClosed = 5003;
    public const int Retrying = 5004;
    public const int RetryBudgetExhausted = 5005;
    public const int ServiceOverloaded = 5006;
    public const int CircuitOpen = 5007;
    public const int ResponseTimedOut = 5008;

    // Authentication 51xx. Until issue 14 its two request events (Unauthenticated, TokenRefused) were 5001 and 5002,
    // the ids the resilience breaker also used; they moved here as 5103 and 5104, and 5001-5008 stay resilience's
    // (the breaker's ids are asserted by CircuitBreakerTests, and an open breaker is what an alert watches).
    public const int SigningKeysFetchFailed = 5101;
    public const int IntrospectionFailed = 5102;
    public const int Unauthenticated = 5103;
    public const int TokenRefused = 5104;

    // Rate limiting 60xx.
    public const int RateLimitStoreFailed = 6001;
    public const int RateLimitRejected = 6002;
    public const int RateLimitShadowRejected = 6003;

    // gRPC transcoding 70xx.
    public const int ResponseNotTranscoded = 7001;
    public const int RequestNotMapped = 7002;

    // Observability 80xx: the access log.
    public const int AccessLogWriteFailed = 8001;

    // Admin listener 90xx.
    public const int AdminRequestRefused = 9001;
}
