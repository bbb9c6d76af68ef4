namespace Gatehouse.Policies.Caching;

/// <summary>A route's compiled cache settings and its store, complete when made (<see cref="ResponseCacheCompiler"/>).</summary>
internal sealed class CachePolicy
{
    public CachePolicy(string route, RouteCacheOptions options, ICacheStore store)
    {
        CacheStore = store;
        Route = route;
        Options = options;
        QueryNames = options.VaryByQuery?.Order(StringComparer.Ordinal).ToArray();
        HeaderNames = options.VaryByHeaders.Order(StringComparer.OrdinalIgnoreCase).ToArray();
        CredentialHeaders = options.CredentialHeaders.ToArray();
    }

    /// <summary>Request headers with credentials besides Authorization and Cookie (<see cref="RouteCacheOptions.CredentialHeaders"/>).</summary>
    public string[] CredentialHeaders { get; }

    public string Route { get; }

    public RouteCacheOptions Options { get; }

    /// <summary>Keyed query parameters, sorted; null keys the whole (sorted) query string.</summary>
    public string[]? QueryNames { get; }

    /// <summary>Keyed request headers, sorted.</summary>
    public string[] HeaderNames { get; }

    public TimeSpan Ttl => Options.Ttl;

    public bool OverrideTtl => Options.OverrideTtl;

    public TimeSpan StaleWhileRevalidate => Options.StaleWhileRevalidate;

    public TimeSpan StaleIfError => Options.StaleIfError;

    public long MaxEntryBytes => Options.MaxEntryBytes;

    public bool KeyByConsumer => Options.KeyByConsumer;

    public CacheStoreKind Store => Options.Store;

    /// <summary>Where the entries are: the node's memory store or a Redis store (<see cref="ResponseCache.StoreForAsync"/>).</summary>
    public ICacheStore CacheStore { get; }

    /// <summary>For tests: a policy from options alone.</summary>
    internal static CachePolicy For(RouteCacheOptions options) => new("test", options, new MemoryCacheStore(options.MaxEntryBytes * 4));
}
