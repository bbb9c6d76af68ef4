using Microsoft.AspNetCore.Http;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// One request's way through the cache once it is past the fresh memory hit: what the lookup, coalescing,
/// forwarding and background refresh all need to know about it.
/// </summary>
/// <remarks>
/// A struct, so that it costs no allocation: async methods take it by value and their state machines hold it where
/// they held the seven parameters it replaces; synchronous ones take it by <c>in</c>. The fresh memory hit path
/// never builds one.
/// </remarks>
internal readonly struct ResponseCacheContext
{
    public readonly HttpContext Http;

    public readonly CachePolicy Policy;

    public readonly ICacheStore Store;

    /// <summary>The entry's key (<see cref="CacheKey"/>).</summary>
    public readonly string Key;

    /// <summary>The request's own <c>Cache-Control</c> (or <c>Pragma: no-cache</c>): a field, so reading it copies nothing.</summary>
    public readonly CacheControl RequestDirectives;

    /// <summary>The stored entry the request revalidates (and may be answered from when the backend fails), or null on a miss.</summary>
    public readonly CachedResponse? Stored;

    /// <summary>Why the request goes to the backend, as RFC 9211's Cache-Status puts it: <c>fwd=uri-miss</c>, <c>vary-miss</c>, <c>stale</c> or <c>request</c>.</summary>
    public readonly string Forward;

    public ResponseCacheContext(HttpContext http, CachePolicy policy, ICacheStore store, string key, in CacheControl requestDirectives,
        CachedResponse? stored = null, string forward = "fwd=uri-miss")
    {
        Http = http;
        Policy = policy;
        Store = store;
        Key = key;
        RequestDirectives = requestDirectives;
        Stored = stored;
        Forward = forward;
    }

    /// <summary>The same request on its way to the backend, with what the lookup found.</summary>
    public ResponseCacheContext Forwarding(CachedResponse? stored, string forward) => new(Http, Policy, Store, Key, RequestDirectives, stored, forward);
}
