using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Resilience;

/// <summary>
/// Breaker transitions at Warning/Information: they are rare and operators act on them. Per-request refusals and
/// retries at Debug: under a failure storm they come by the thousand; the metrics count them.
/// </summary>
internal static partial class ResilienceLog
{
    [LoggerMessage(EventId = Observability.LogEvents.BreakerOpened, Level = LogLevel.Warning, Message = "Circuit breaker of service {Service} opened ({Reason}); requests fail fast for {BreakSeconds}s")]
    public static partial void BreakerOpened(ILogger logger, string service, string reason, double breakSeconds);

    [LoggerMessage(EventId = Observability.LogEvents.BreakerHalfOpen, Level = LogLevel.Information, Message = "Circuit breaker of service {Service} half-open: one probe request goes through")]
    public static partial void BreakerHalfOpen(ILogger logger, string service);

    [LoggerMessage(EventId = Observability.LogEvents.BreakerClosed, Level = LogLevel.Information, Message = "Circuit breaker of service {Service} closed: the probe succeeded")]
    public static partial void BreakerClosed(ILogger logger, string service);

    [LoggerMessage(EventId = Observability.LogEvents.Retrying, Level = LogLevel.Debug, Message = "Request {RequestId} to service {Service}: retry {Retry} after {Reason}")]
    public static partial void Retrying(ILogger logger, string requestId, string service, int retry, string reason);

    [LoggerMessage(EventId = Observability.LogEvents.RetryBudgetExhausted, Level = LogLevel.Debug, Message = "Request {RequestId} to service {Service} not retried: the retry budget is spent")]
    public static partial void BudgetExhausted(ILogger logger, string requestId, string service);

    [LoggerMessage(EventId = Observability.LogEvents.ServiceOverloaded, Level = LogLevel.Debug, Message = "Request {RequestId} refused: service {Service} has {Limit} requests in flight")]
    public static partial void Overloaded(ILogger logger, string requestId, string service, int limit);

    [LoggerMessage(EventId = Observability.LogEvents.CircuitOpen, Level = LogLevel.Debug, Message = "Request {RequestId} refused: the circuit breaker of service {Service} is open")]
    public static partial void CircuitOpen(ILogger logger, string requestId, string service);

    [LoggerMessage(EventId = Observability.LogEvents.ResponseTimedOut, Level = LogLevel.Warning, Message = "Request {RequestId} on route {Route}: service {Service} sent no response headers within {TimeoutMs}ms")]
    public static partial void ResponseTimedOut(ILogger logger, string requestId, string route, string service, double timeoutMs);
}
