namespace Gatehouse.Policies.Caching;

/// <summary>
/// RFC 9111 section 4 for a shared cache: what a stored response (or its absence) means for this request. Pure: the
/// entry, the request's directives and the clock come in as arguments, so the unit tests walk it as a table on
/// virtual time, and the fresh memory hit path and the full lookup cannot disagree.
/// </summary>
internal static class CacheLookup
{
    /// <param name="entry">The stored response, its Vary already matched against the request; null when there is none.</param>
    /// <param name="request">The request's directives.</param>
    /// <param name="now">The lookup's time.</param>
    /// <param name="isGet">A GET; otherwise a HEAD.</param>
    /// <param name="conditional">The request has validators or a Range of its own (only weighed when nothing is stored).</param>
    public static CacheDecision Decide(CachedResponse? entry, in CacheControl request, DateTimeOffset now, bool isGet, bool conditional)
    {
        if (entry is null)
        {
            return request.OnlyIfCached ? CacheDecision.OnlyIfCached
                : !isGet || conditional ? CacheDecision.Forward
                : CacheDecision.Fetch;
        }

        var age = entry.CurrentAge(now);
        var revalidate = request.NoCache || entry.NoCache;
        var fresh = age < entry.FreshnessLifetime
            && (request.MaxAge < 0 || age <= TimeSpan.FromSeconds(request.MaxAge))
            && (request.MinFresh < 0 || entry.FreshnessLifetime - age >= TimeSpan.FromSeconds(request.MinFresh));
        if (fresh && !revalidate)
        {
            return CacheDecision.Fresh;
        }

        // Never stale when the backend said to revalidate, nor when either side asked for revalidation.
        var staleness = age - entry.FreshnessLifetime;
        var mayServeStale = !revalidate && !entry.MustRevalidate;
        if (mayServeStale && request.MaxStale >= 0 && (request.MaxStale == long.MaxValue || staleness <= TimeSpan.FromSeconds(request.MaxStale)))
        {
            return CacheDecision.StaleAccepted;
        }

        if (request.OnlyIfCached)
        {
            return CacheDecision.OnlyIfCached;
        }

        if (!isGet)
        {
            return CacheDecision.Forward;
        }

        // A client that bounds the age (max-age) is not served a stale answer while it is refreshed.
        if (mayServeStale && staleness < entry.StaleWhileRevalidate && request.MaxAge < 0)
        {
            return CacheDecision.StaleWhileRevalidate;
        }

        return request.NoCache ? CacheDecision.RevalidateForClient : CacheDecision.Revalidate;
    }
}
