using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// The cache logs only what serves an operator: a stale answer given because the backend failed, and a background
/// refresh that failed. Hits and misses are counted (<see cref="CacheMetrics"/>), not logged.
/// </summary>
internal static partial class CacheLog
{
    [LoggerMessage(EventId = Observability.LogEvents.CacheStaleIfError, Level = LogLevel.Information, Message = "Route {Route}: the backend answered {Status}; served a stale entry (stale-if-error)")]
    public static partial void StaleIfError(ILogger logger, string route, int status);

    [LoggerMessage(EventId = Observability.LogEvents.CacheRefreshFailed, Level = LogLevel.Warning, Message = "Route {Route}: background refresh of a stale entry failed")]
    public static partial void RefreshFailed(ILogger logger, string route, Exception exception);
}
