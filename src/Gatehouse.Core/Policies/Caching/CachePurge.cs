namespace Gatehouse.Policies.Caching;

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
