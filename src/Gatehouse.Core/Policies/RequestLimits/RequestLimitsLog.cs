using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.RequestLimits;

/// <summary>Refusals at Debug: a flood of oversized requests must not flood the log; metrics (later) count them.</summary>
internal static partial class RequestLimitsLog
{
    [LoggerMessage(EventId = Observability.LogEvents.UrlTooLong, Level = LogLevel.Debug, Message = "Request {RequestId} refused: URL of {Bytes} bytes over the limit of {Limit}")]
    public static partial void UrlTooLong(ILogger logger, string requestId, long bytes, long limit);

    [LoggerMessage(EventId = Observability.LogEvents.HeadersTooLarge, Level = LogLevel.Debug, Message = "Request {RequestId} refused: headers of {Bytes} bytes over the limit of {Limit}")]
    public static partial void HeadersTooLarge(ILogger logger, string requestId, long bytes, long limit);

    [LoggerMessage(EventId = Observability.LogEvents.AmbiguousFraming, Level = LogLevel.Debug, Message = "Request {RequestId} refused: both Content-Length and Transfer-Encoding")]
    public static partial void AmbiguousFraming(ILogger logger, string requestId);

    [LoggerMessage(EventId = Observability.LogEvents.MalformedRequest, Level = LogLevel.Debug, Message = "Request {RequestId} refused: {Reason}")]
    public static partial void Malformed(ILogger logger, string requestId, string reason);

    [LoggerMessage(EventId = Observability.LogEvents.BodyTooLarge, Level = LogLevel.Debug, Message = "Request {RequestId} on route {Route} refused: body of {Bytes} bytes over the limit of {Limit}")]
    public static partial void BodyTooLarge(ILogger logger, string requestId, string route, long bytes, long limit);
}
