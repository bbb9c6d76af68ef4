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

/// <summary>
/// What <c>POST /cache/purge</c> removes: every variant of one URL (<see cref="Origin"/> + <see cref="Path"/>, all
/// query and header variants), everything under a path prefix (any host), or everything tagged <see cref="Tag"/>.
/// </summary>
internal sealed record CachePurge(string? Origin, string? Path, string? Prefix, string? Tag)
{
    public bool Matches(CachedResponse entry) =>
        (Path is null || (entry.Path == Path && string.Equals(entry.Origin, Origin, StringComparison.Ordinal)))
        && (Prefix is null || entry.Path.StartsWith(Prefix, StringComparison.Ordinal))
        && (Tag is null || Array.IndexOf(entry.Tags, Tag) >= 0);
}
