using Gatehouse.Configuration;

namespace Gatehouse.Policies.Caching;

public enum CacheStoreKind
{
    /// <summary>This node's memory, bounded by <c>cache.memory.maxBytes</c>.</summary>
    Memory,

    /// <summary>The top-level <c>redis:</c>, shared by every gateway node that uses it.</summary>
    Redis,
}

/// <summary>
/// A route's <c>cache: { ttl: 60s, store: memory, varyBy: { query: [page, sort], headers: [Accept-Language] },
/// maxEntryBytes: 1MB, staleWhileRevalidate: 10s, staleIfError: 5m }</c>. The gateway behaves as an RFC 9111 shared
/// cache: the backend's <c>Cache-Control</c> and <c>Expires</c> decide, <c>ttl</c> fills in when they say nothing.
/// </summary>
public sealed record RouteCacheOptions : ConfigSection
{
    internal static readonly string[] Keys = ["ttl", "overrideTtl", "store", "varyBy", "maxEntryBytes", "staleWhileRevalidate", "staleIfError", "keyByConsumer", "tagHeader", "credentialHeaders"];
    internal static readonly string[] VaryByKeys = ["query", "headers"];

    /// <summary>
    /// Freshness of responses that carry no <c>max-age</c>, <c>s-maxage</c> or <c>Expires</c>, to requests without
    /// credentials (<c>Authorization</c>, <c>Cookie</c>, <see cref="CredentialHeaders"/>). Default 60s.
    /// </summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// <c>overrideTtl: true</c>: <see cref="Ttl"/> replaces the backend's own freshness information (it never makes a
    /// <c>no-store</c>, <c>private</c> or <c>Set-Cookie</c> response storable). Default false.
    /// </summary>
    public bool OverrideTtl { get; init; }

    public CacheStoreKind Store { get; init; } = CacheStoreKind.Memory;

    /// <summary>
    /// Query parameters that are part of the key, or null (absent) to key the whole query string. When listed, a
    /// request carrying any other parameter bypasses the cache: an unkeyed parameter could change the answer.
    /// </summary>
    public IReadOnlyList<string>? VaryByQuery { get; init; }

    /// <summary>Request headers that are part of the key (besides the ones the backend names in <c>Vary</c>).</summary>
    public IReadOnlyList<string> VaryByHeaders { get; init; } = [];

    /// <summary>Responses larger than this are passed through, not stored. Default 1MB.</summary>
    public long MaxEntryBytes { get; init; } = 1024 * 1024;

    /// <summary>How long past freshness a stale entry may be served while one background request refreshes it (RFC 5861). Default none; the backend's <c>stale-while-revalidate</c> wins.</summary>
    public TimeSpan StaleWhileRevalidate { get; init; }

    /// <summary>How long past freshness a stale entry may be served when the backend fails (5xx, timeout, open breaker). Default none; the backend's <c>stale-if-error</c> wins.</summary>
    public TimeSpan StaleIfError { get; init; }

    /// <summary>
    /// <c>keyByConsumer: true</c>: the authenticated consumer (qualified by the provider that authenticated it) is
    /// part of the key, so answers to authenticated requests are stored (per consumer) even without <c>public</c> or
    /// <c>s-maxage</c>. Only on routes that authenticate (a load error otherwise); a request for which the gateway has
    /// no consumer (a token without <c>sub</c> or <c>consumer</c>) is neither stored nor served. Default false: they
    /// are stored only when the backend marks them <c>public</c>, <c>s-maxage</c> or <c>must-revalidate</c>, and then
    /// shared by everyone.
    /// </summary>
    public bool KeyByConsumer { get; init; }

    /// <summary>
    /// Request headers that carry credentials besides <c>Authorization</c> and <c>Cookie</c> (which always do), e.g.
    /// <c>[X-Auth-Token]</c>. An answer to a request with any of them is stored only when the backend allows a shared
    /// cache to (<c>public</c>, <c>s-maxage</c> or <c>must-revalidate</c>, RFC 9111 3.5), and never on the route's
    /// <c>ttl</c> alone. Default none.
    /// </summary>
    public IReadOnlyList<string> CredentialHeaders { get; init; } = [];

    /// <summary>Response header whose space-separated values tag the entry for <c>POST /cache/purge {"tag": ...}</c>. Default <c>Surrogate-Key</c>.</summary>
    public string TagHeader { get; init; } = "Surrogate-Key";

    internal static RouteCacheOptions Read(ConfigNodeReader r)
    {
        var defaults = new RouteCacheOptions();
        var varyBy = r.Mapping("varyBy", VaryByKeys);
        return defaults with
        {
            Position = r.Position,
            KeyPositions = r.KeyPositions,
            Ttl = r.Duration("ttl") ?? defaults.Ttl,
            OverrideTtl = r.Bool("overrideTtl") ?? false,
            Store = r.Enum("store", StoreNames) ?? defaults.Store,
            VaryByQuery = varyBy?.StringList("query"),
            VaryByHeaders = varyBy?.StringList("headers") ?? [],
            MaxEntryBytes = r.Size("maxEntryBytes") ?? defaults.MaxEntryBytes,
            StaleWhileRevalidate = r.Duration("staleWhileRevalidate") ?? TimeSpan.Zero,
            StaleIfError = r.Duration("staleIfError") ?? TimeSpan.Zero,
            KeyByConsumer = r.Bool("keyByConsumer") ?? false,
            TagHeader = r.String("tagHeader") ?? defaults.TagHeader,
            CredentialHeaders = r.StringList("credentialHeaders") ?? [],
        };
    }

    private static readonly Dictionary<string, CacheStoreKind> StoreNames = new()
    {
        ["memory"] = CacheStoreKind.Memory,
        ["redis"] = CacheStoreKind.Redis,
    };

    /// <summary>Headers a cache must never key on: they are per hop, per request or secrets.</summary>
    private static readonly HashSet<string> UnkeyableHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Cookie", "Proxy-Authorization", "Connection", "Keep-Alive", "TE", "Transfer-Encoding", "Upgrade", "Content-Length",
    };

    /// <param name="anonymous">Why the route's effective auth admits anonymous callers (its own or the top-level <c>auth</c>), or null when it authenticates.</param>
    internal static void Validate(RouteCacheOptions options, string route, bool redisConfigured, long memoryMaxBytes, string? anonymous, ConfigDiagnostics diagnostics)
    {
        var where = $"route '{route}' cache";
        if (options.KeyByConsumer && anonymous is not null)
        {
            diagnostics.Error(options.PositionOf("keyByConsumer"),
                $"{where}.keyByConsumer needs a route that authenticates its callers (auth: {{ providers: [...] }}), but the route has {anonymous}: without a consumer there is nothing to key private answers by");
        }

        if (options.Store == CacheStoreKind.Redis && !redisConfigured)
        {
            diagnostics.Error(options.PositionOf("store"), $"{where} uses store: redis, but there is no top-level 'redis: {{ connection: \"host:6379\" }}'");
        }

        if (options.Store == CacheStoreKind.Memory && options.MaxEntryBytes > memoryMaxBytes)
        {
            diagnostics.Error(options.PositionOf("maxEntryBytes"), $"{where}.maxEntryBytes ({options.MaxEntryBytes}) exceeds cache.memory.maxBytes ({memoryMaxBytes})");
        }

        if (options.Store == CacheStoreKind.Redis && options.MaxEntryBytes > RedisMaxEntryBytes)
        {
            diagnostics.Error(options.PositionOf("maxEntryBytes"), $"{where}.maxEntryBytes must be at most 16MB with store: redis (large values block Redis for every other client)");
        }

        foreach (var header in options.CredentialHeaders)
        {
            if (!ValueParsers.IsHeaderName(header))
            {
                diagnostics.Error(options.PositionOf("credentialHeaders"), $"{where}.credentialHeaders: '{header}' is not a header name");
            }
        }

        if (options.CredentialHeaders.Distinct(StringComparer.OrdinalIgnoreCase).Count() != options.CredentialHeaders.Count)
        {
            diagnostics.Error(options.PositionOf("credentialHeaders"), $"{where}.credentialHeaders lists a header twice");
        }

        foreach (var header in options.VaryByHeaders)
        {
            if (options.CredentialHeaders.Contains(header, StringComparer.OrdinalIgnoreCase))
            {
                diagnostics.Error(options.PositionOf("varyBy"), $"{where}.varyBy.headers: '{header}' is a credential header and cannot be keyed on (use keyByConsumer: true on a route that authenticates its callers)");
            }
            else if (UnkeyableHeaders.Contains(header))
            {
                diagnostics.Error(options.PositionOf("varyBy"), $"{where}.varyBy.headers: '{header}' cannot be keyed on" + (header.Equals("Authorization", StringComparison.OrdinalIgnoreCase) ? " (to keep answers per caller, use keyByConsumer: true on a route that authenticates its callers; requests without a consumer then bypass the cache)" : ""));
            }
            else if (!ValueParsers.IsHeaderName(header))
            {
                diagnostics.Error(options.PositionOf("varyBy"), $"{where}.varyBy.headers: '{header}' is not a header name");
            }
        }

        if (options.VaryByHeaders.Distinct(StringComparer.OrdinalIgnoreCase).Count() != options.VaryByHeaders.Count)
        {
            diagnostics.Error(options.PositionOf("varyBy"), $"{where}.varyBy.headers lists a header twice");
        }

        if (options.VaryByQuery is { } query && query.Distinct(StringComparer.Ordinal).Count() != query.Count)
        {
            diagnostics.Error(options.PositionOf("varyBy"), $"{where}.varyBy.query lists a parameter twice");
        }

        if (options.VaryByQuery is { } names && names.Any(n => n.Length == 0))
        {
            diagnostics.Error(options.PositionOf("varyBy"), $"{where}.varyBy.query: a parameter name cannot be empty");
        }

        if (!ValueParsers.IsHeaderName(options.TagHeader))
        {
            diagnostics.Error(options.PositionOf("tagHeader"), $"{where}.tagHeader is not a header name");
        }

        if (options.OverrideTtl && options.KeyPositions?.ContainsKey("ttl") != true)
        {
            diagnostics.Error(options.PositionOf("overrideTtl"), $"{where}.overrideTtl needs an explicit 'ttl' to apply");
        }
    }

    internal const long RedisMaxEntryBytes = 16 * 1024 * 1024;
}

/// <summary>The top-level <c>cache: { memory: { maxBytes: 256MB } }</c>: what all routes' memory caches share on this node.</summary>
public sealed record CacheOptions : ConfigSection
{
    internal static readonly string[] Keys = ["memory"];
    internal static readonly string[] MemoryKeys = ["maxBytes"];

    /// <summary>Bytes the memory store holds at most (bodies, headers and keys), least recently used evicted first. Default 256MB.</summary>
    public long MemoryMaxBytes { get; init; } = 256L * 1024 * 1024;

    internal static CacheOptions Read(ConfigNodeReader r)
    {
        var memory = r.Mapping("memory", MemoryKeys);
        var defaults = new CacheOptions();
        return defaults with
        {
            Position = r.Position,
            KeyPositions = r.KeyPositions,
            MemoryMaxBytes = memory?.Size("maxBytes") ?? defaults.MemoryMaxBytes,
        };
    }

    internal static void Validate(CacheOptions options, ConfigDiagnostics diagnostics)
    {
        if (options.MemoryMaxBytes < 64 * 1024)
        {
            diagnostics.Error(options.PositionOf("memory"), "cache.memory.maxBytes must be at least 64KB");
        }
    }
}
