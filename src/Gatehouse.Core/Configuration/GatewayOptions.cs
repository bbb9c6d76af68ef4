using Gatehouse.Policies.Authentication;
using Gatehouse.Policies.IpFilter;
using Gatehouse.Policies.PathFilter;
using Gatehouse.Policies.RateLimiting;
using Gatehouse.Policies.RequestLimits;
using Gatehouse.Policies.Resilience;
using Gatehouse.Policies.Transcoding;

namespace Gatehouse.Configuration;

/// <summary>Base of every config record: where in the file it came from, for load-time errors.</summary>
public abstract record ConfigSection
{
    internal SourcePosition Position { get; init; }

    internal IReadOnlyDictionary<string, SourcePosition>? KeyPositions { get; init; }

    internal SourcePosition PositionOf(string key) =>
        KeyPositions is not null && KeyPositions.TryGetValue(key, out var p) ? p : Position;
}

/// <summary>The whole config file. Key names are a contract with operators: see docs/configuration.md.</summary>
public sealed record GatewayOptions : ConfigSection
{
    /// <summary>Client listeners. Default <c>http://0.0.0.0:8080</c>. Applied at start only: a reload that changes them applies everything else and logs that a restart is needed.</summary>
    public IReadOnlyList<ListenOptions> Listen { get; init; } = [];

    /// <summary>The admin listener; default <c>http://127.0.0.1:9901</c>.</summary>
    public AdminOptions Admin { get; init; } = new();

    /// <summary>Global request limits; routes may lower or raise <c>maxBodyBytes</c>.</summary>
    public RequestLimitsOptions Limits { get; init; } = RequestLimitsOptions.Defaults;

    /// <summary>
    /// Proxies (CIDR ranges) whose <c>X-Forwarded-For</c> / <c>Forwarded</c> headers are believed. Default none:
    /// the client address is the socket's.
    /// </summary>
    public IReadOnlyList<string> TrustedProxies { get; init; } = [];

    /// <summary>Which header trusted proxies set: <c>X-Forwarded-For</c> (default) or RFC 7239 <c>Forwarded</c>. Only that one is read.</summary>
    public ForwardedHeader ForwardedHeader { get; init; } = ForwardedHeader.XForwardedFor;

    /// <summary>Allow/deny lists applied to every request, before the route's own.</summary>
    public IpFilterOptions? IpFilter { get; init; }

    /// <summary>Paths never served, whatever the route.</summary>
    public PathDenyOptions? Deny { get; init; }

    /// <summary>How request paths are normalised before routing.</summary>
    public PathNormalizationOptions PathNormalization { get; init; } = new();

    /// <summary>Client-sent headers removed before routing (underscore names, overrides, unproxied address claims).</summary>
    public Policies.RequestHeaders.RequestHeadersOptions RequestHeaders { get; init; } = new();

    /// <summary>OpenID Connect issuers whose JWT access tokens routes may accept, by name.</summary>
    public IReadOnlyList<IdentityProviderOptions> IdentityProviders { get; init; } = [];

    /// <summary>Known callers and their hashed API keys.</summary>
    public IReadOnlyList<ConsumerOptions> Consumers { get; init; } = [];

    /// <summary>Where API keys are read; default header <c>X-Api-Key</c>.</summary>
    public ApiKeyOptions? ApiKey { get; init; }

    /// <summary>Default authentication for every route; a route opts out with <c>auth: anonymous</c>.</summary>
    public AuthOptions? Auth { get; init; }

    /// <summary>The Redis that nodes share state through; needed only by policies with <c>store: redis</c>.</summary>
    public Redis.RedisOptions? Redis { get; init; }

    /// <summary>Rate limits by name; routes apply them with <c>rateLimit: [name]</c>.</summary>
    public IReadOnlyList<RateLimitPolicyOptions> RateLimits { get; init; } = [];

    /// <summary>What the routes' response caches share: <c>cache: { memory: { maxBytes: 256MB } }</c>.</summary>
    public Policies.Caching.CacheOptions Cache { get; init; } = new();

    /// <summary>Backends by name, in file order.</summary>
    public IReadOnlyList<ServiceOptions> Services { get; init; } = [];

    /// <summary>Routes in file order: the first route that matches a request wins.</summary>
    public IReadOnlyList<RouteOptions> Routes { get; init; } = [];

    /// <summary>Access log, metrics and tracing; applied at start.</summary>
    public Observability.ObservabilityOptions Observability { get; init; } = new();
}

public enum ForwardedHeader
{
    [System.Text.Json.Serialization.JsonStringEnumMemberName("X-Forwarded-For")]
    XForwardedFor,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("Forwarded")]
    Forwarded,
}

public enum ListenProtocols
{
    Http1,
    Http2,
    Http1AndHttp2,
}

public sealed record ListenOptions : ConfigSection
{
    /// <summary><c>http://host:port</c>, <c>https://host:port</c>, or <c>h2c://host:port</c> (cleartext HTTP/2 with prior knowledge).</summary>
    public required string Url { get; init; }

    /// <summary>Default: HTTP/1.1 and HTTP/2 for https, HTTP/1.1 for http, HTTP/2 for h2c.</summary>
    public ListenProtocols? Protocols { get; init; }

    public CertificateOptions? Certificate { get; init; }
}

public sealed record CertificateOptions : ConfigSection
{
    /// <summary>PEM or PFX certificate file.</summary>
    public required string Path { get; init; }

    /// <summary>PEM private key file, when <see cref="Path"/> is a PEM certificate.</summary>
    public string? KeyPath { get; init; }

    public string? Password { get; init; }

    // Records print every member; a password must never reach a log line or an exception message.
    protected override bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Path = ").Append(Path).Append(", KeyPath = ").Append(KeyPath).Append(", Password = ").Append(Password is null ? "null" : "***");
        return true;
    }
}

public sealed record AdminOptions : ConfigSection
{
    /// <summary>Default <c>http://127.0.0.1:9901</c>; empty string turns the admin listener off.</summary>
    public string Listen { get; init; } = "http://127.0.0.1:9901";

    /// <summary>
    /// Bearer token every admin endpoint but <c>/healthz</c> and <c>/readyz</c> requires when set; required when
    /// <see cref="Listen"/> is not a loopback address. Usually <c>${GATEHOUSE_ADMIN_TOKEN}</c>. At least 16 characters.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>
    /// Further names the token-less admin listener answers to, as <c>HOST</c> (with the listener's port) or
    /// <c>HOST:PORT</c> (exactly, e.g. the local end of an SSH tunnel). Default none: without a token the listener
    /// answers only to its own address, <c>localhost</c>, <c>127.0.0.1</c> and <c>[::1]</c> with its port, so a
    /// DNS-rebinding page cannot read it. Not consulted when <see cref="Token"/> is set (the token is the guard).
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    // Records print every member; the token must never reach a log line or an exception message.
    protected override bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Listen = ").Append(Listen).Append(", Token = ").Append(Token is null ? "null" : "***")
            .Append(", AllowedHosts = [").Append(string.Join(", ", AllowedHosts)).Append(']');
        return true;
    }
}

public enum LoadBalancingMode
{
    PowerOfTwoChoices,
    RoundRobin,
    LeastRequests,
    Random,
    First,
}

public sealed record ServiceOptions : ConfigSection
{
    public required string Name { get; init; }

    public IReadOnlyList<TargetOptions> Targets { get; init; } = [];

    /// <summary>Default <c>powerOfTwoChoices</c>.</summary>
    public LoadBalancingMode LoadBalancing { get; init; } = LoadBalancingMode.PowerOfTwoChoices;

    public HealthCheckOptions? HealthCheck { get; init; }

    /// <summary>Connect, response and idle timeouts; <c>timeout: 30s</c> is shorthand for <c>{ idle: 30s }</c>.</summary>
    public TimeoutOptions? Timeout { get; init; }

    /// <summary>Retries of failed idempotent requests, within a budget. None by default.</summary>
    public RetryOptions? Retry { get; init; }

    /// <summary>Fails fast with 503 while the service fails too often. None by default.</summary>
    public CircuitBreakerOptions? CircuitBreaker { get; init; }

    /// <summary>Requests in flight to this service at most (a bulkhead); more get 503 <c>service-overloaded</c>. No limit by default.</summary>
    public int? MaxConcurrentRequests { get; init; }

    /// <summary>HTTP version to the backend: <c>1.1</c>, <c>2</c> (TLS or h2c) or <c>auto</c> (default: 2 when TLS offers it, else 1.1).</summary>
    public string? HttpVersion { get; init; }

    /// <summary><c>http</c> (default) or <c>grpc</c>: HTTP/2 to the backend, cleartext (h2c) for http:// targets, TLS with ALPN for https://.</summary>
    public ServiceProtocol Protocol { get; init; }

    /// <summary>gRPC settings (the descriptor set for transcoding); needs <c>protocol: grpc</c>.</summary>
    public GrpcServiceOptions? Grpc { get; init; }

    /// <summary>TLS to the <c>https://</c> targets: the CA certificates they are checked against (<c>tls.caFile</c>).</summary>
    public Policies.BackendTls.BackendTlsOptions? Tls { get; init; }
}

public sealed record TargetOptions : ConfigSection
{
    public required string Url { get; init; }

    /// <summary>A different address for active health probes, when the backend serves them elsewhere.</summary>
    public string? HealthUrl { get; init; }
}

public sealed record HealthCheckOptions : ConfigSection
{
    /// <summary>Active probe path; no active probing when absent.</summary>
    public string? Path { get; init; }

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Consecutive failed probes before a target is taken out. Default 2.</summary>
    public int UnhealthyAfter { get; init; } = 2;

    /// <summary>Passive checks: a target failing too many proxied requests is taken out for <see cref="ReactivationPeriod"/>. Default on.</summary>
    public bool Passive { get; init; } = true;

    public TimeSpan ReactivationPeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Outlier ejection: a target whose last N proxied requests all failed (connection error, timeout or 5xx) is taken
    /// out for <see cref="ReactivationPeriod"/>. Replaces the default passive policy (transport-failure rate). None by default.
    /// </summary>
    public int? EjectAfterFailures { get; init; }

    /// <summary>
    /// What to do when every target is unhealthy: <c>fail</c> (default: 503 at once, no backend call) or
    /// <c>tryAll</c> (YARP's and Envoy's "panic" mode: send to all targets anyway).
    /// </summary>
    public bool TryAllWhenAllUnhealthy { get; init; }
}

public sealed record RouteOptions : ConfigSection
{
    public required string Name { get; init; }

    public required MatchOptions Match { get; init; }

    public required string Service { get; init; }

    public RewriteOptions? Rewrite { get; init; }

    /// <summary>Request header edits sent to the backend.</summary>
    public HeaderEditOptions? Headers { get; init; }

    /// <summary>Response header edits sent to the client.</summary>
    public HeaderEditOptions? ResponseHeaders { get; init; }

    public RequestLimitsOptions? Limits { get; init; }

    /// <summary>This route's authentication (else the top-level default).</summary>
    public AuthOptions? Auth { get; init; }

    /// <summary>Claims of the authenticated caller sent to the backend as headers, e.g. <c>{ consumer: X-Consumer }</c>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ForwardClaims { get; init; } = [];

    /// <summary>Paths this route never serves.</summary>
    public PathDenyOptions? Deny { get; init; }

    /// <summary>Allow/deny lists for this route, applied after the global ones.</summary>
    public IpFilterOptions? IpFilter { get; init; }

    /// <summary>Rate limits applied to this route, in order, by name (see <see cref="GatewayOptions.RateLimits"/>).</summary>
    public IReadOnlyList<string> RateLimit { get; init; } = [];

    /// <summary>Allow WebSocket upgrades on this route. Default false: other routes never pass an Upgrade on.</summary>
    public bool WebSockets { get; init; }

    /// <summary>This route's response and idle timeouts, replacing the service's.</summary>
    public TimeoutOptions? Timeout { get; init; }

    /// <summary>A static answer instead of 503 while the service's circuit breaker is open.</summary>
    public FallbackOptions? Fallback { get; init; }

    /// <summary>This route's response cache (RFC 9111 shared cache), or null for none.</summary>
    public Policies.Caching.RouteCacheOptions? Cache { get; init; }
    /// <summary><c>transcode: grpc</c>: REST/JSON requests are mapped to the service's gRPC methods by their <c>google.api.http</c> rules.</summary>
    public RouteTranscoding Transcode { get; init; }
}

public sealed record MatchOptions : ConfigSection
{
    /// <summary>ASP.NET Core route template: <c>/api/{id}</c>, <c>/files/{**rest}</c>.</summary>
    public required string Path { get; init; }

    /// <summary>Empty means any method.</summary>
    public IReadOnlyList<string> Methods { get; init; } = [];

    /// <summary>Host names, with optional <c>*.</c> wildcard prefix and port. Empty means any host.</summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];

    public IReadOnlyList<ValueMatchOptions> Headers { get; init; } = [];

    public IReadOnlyList<ValueMatchOptions> Query { get; init; } = [];
}

public enum ValueMatchMode
{
    Exact,
    Prefix,
    Contains,
    NotContains,
    Exists,
    NotExists,
}

/// <summary>A header or query parameter condition.</summary>
public sealed record ValueMatchOptions : ConfigSection
{
    public required string Name { get; init; }

    /// <summary>Any of these values matches (empty for exists / notExists).</summary>
    public IReadOnlyList<string> Values { get; init; } = [];

    public ValueMatchMode Mode { get; init; } = ValueMatchMode.Exact;

    public bool CaseSensitive { get; init; }
}

public sealed record RewriteOptions : ConfigSection
{
    /// <summary>New path template using the match's route values, e.g. <c>/users/{**rest}</c>.</summary>
    public string? Path { get; init; }

    /// <summary>A path prefix removed before forwarding, e.g. <c>/api</c>.</summary>
    public string? StripPrefix { get; init; }
}

public sealed record HeaderEditOptions : ConfigSection
{
    public IReadOnlyList<KeyValuePair<string, string>> Set { get; init; } = [];

    public IReadOnlyList<KeyValuePair<string, string>> Add { get; init; } = [];

    public IReadOnlyList<string> Remove { get; init; } = [];
}
