namespace Gatehouse.Policies.Caching;

/// <summary>What the cache did with one request: the one place its result is known (the access log reads it too).</summary>
internal enum CacheOutcome
{
    /// <summary>The route has no cache, or the request was not one the cache handles (method, override headers, unkeyed query).</summary>
    Bypass,

    /// <summary>Served from a fresh entry.</summary>
    Hit,

    /// <summary>Forwarded: no entry (or a Vary mismatch, or the request said no-cache).</summary>
    Miss,

    /// <summary>Waited for another request's identical miss and served its entry.</summary>
    Collapsed,

    /// <summary>Served a stale entry while one background request refreshes it.</summary>
    StaleWhileRevalidate,

    /// <summary>Served a stale entry because the backend failed.</summary>
    StaleIfError,

    /// <summary>A stale entry revalidated with the backend (304) and served.</summary>
    Revalidated,
}
