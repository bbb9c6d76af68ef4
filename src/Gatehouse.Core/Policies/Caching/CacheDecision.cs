namespace Gatehouse.Policies.Caching;

/// <summary>What a cache lookup means for the request (<see cref="CacheLookup.Decide"/>).</summary>
internal enum CacheDecision
{
    /// <summary>The entry is fresh enough for the request: serve it.</summary>
    Fresh,

    /// <summary>The entry is not fresh enough, but the request's <c>max-stale</c> accepts it: serve it (RFC 9111 5.2.1.2).</summary>
    StaleAccepted,

    /// <summary>Stale within the entry's stale-while-revalidate: serve it and refresh it in the background (RFC 5861).</summary>
    StaleWhileRevalidate,

    /// <summary>Stale, or the entry says <c>no-cache</c>: ask the backend with its validators; identical requests share one revalidation.</summary>
    Revalidate,

    /// <summary>The request says <c>no-cache</c>: revalidate the entry for this request alone.</summary>
    RevalidateForClient,

    /// <summary>Nothing stored: fetch and store; identical requests share one fetch.</summary>
    Fetch,

    /// <summary>
    /// Forward as it is and store nothing: a HEAD on a stale entry (its bodiless answer must not replace the GET's
    /// entry), or a HEAD, conditional or range request with nothing stored (a 304 or 206 is no entry).
    /// </summary>
    Forward,

    /// <summary>The request says <c>only-if-cached</c> and nothing stored may answer it: 504 without asking the backend (RFC 9111 5.2.1.7).</summary>
    OnlyIfCached,
}
