using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Transcoding;

/// <summary>
/// A backend answer the gateway cannot turn into JSON is a Warning: the service and its descriptor set disagree, and
/// operators act on it. A client request that does not fit its method is Debug: clients send those by the thousand.
/// </summary>
internal static partial class TranscodingLog
{
    [LoggerMessage(EventId = Observability.LogEvents.ResponseNotTranscoded, Level = LogLevel.Warning, Message = "Request {RequestId} on route {Route}: the answer of {Method} cannot be transcoded to JSON: {Reason}")]
    public static partial void ResponseNotTranscoded(ILogger logger, string requestId, string route, string method, string reason);

    [LoggerMessage(EventId = Observability.LogEvents.RequestNotMapped, Level = LogLevel.Debug, Message = "Request {RequestId} on route {Route} refused: it cannot be mapped to {Method}: {Reason}")]
    public static partial void RequestNotMapped(ILogger logger, string requestId, string route, string method, string reason);
}
