namespace Gatehouse.Policies.Caching;

/// <summary>Where entries live: this node's memory, or Redis shared by all nodes. Two implementations, chosen by the route's <c>store</c>.</summary>
internal interface ICacheStore
{
    /// <summary>The entry for the key, or null. A store that fails (Redis down or slow) answers null: a failure is a miss.</summary>
    ValueTask<CachedResponse?> GetAsync(string key);

    /// <summary>Stores (or replaces) an entry for as long as it may still be served. Failures are logged and swallowed.</summary>
    ValueTask SetAsync(CachedResponse entry, DateTimeOffset now);

    /// <summary>Removes what the purge names; returns how many entries went.</summary>
    ValueTask<int> PurgeAsync(CachePurge purge);
}
