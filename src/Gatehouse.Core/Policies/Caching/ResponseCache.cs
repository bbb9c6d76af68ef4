using System.Collections.Concurrent;
using Gatehouse.Configuration;
using Gatehouse.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// The gateway's cache state, kept across reloads: the memory store (one per node, shared by all routes, bounded by
/// <c>cache.memory.maxBytes</c>), the Redis stores, and the misses in flight that identical requests wait for.
/// </summary>
internal sealed class ResponseCache(IServiceProvider services, CacheMetrics metrics, ILoggerFactory loggers)
{
    private readonly ConcurrentBag<ICacheStore> _redis = [];

    public MemoryCacheStore Memory { get; } = new(new CacheOptions().MemoryMaxBytes);

    /// <summary>Misses being fetched, by key: the first request fetches, the others wait for its entry (request coalescing).</summary>
    public ConcurrentDictionary<string, TaskCompletionSource<SharedAnswer?>> InFlight { get; } = new(StringComparer.Ordinal);

    /// <summary>Keys with a stale-while-revalidate refresh running, so one stale entry triggers one refresh.</summary>
    public ConcurrentDictionary<string, byte> Refreshing { get; } = new(StringComparer.Ordinal);

    public IEnumerable<ICacheStore> Stores => _redis.Prepend(Memory);

    /// <summary>
    /// The store of one route's cache: the node's memory store, or a Redis store, a runtime object
    /// (<see cref="RuntimeObjects"/>, kind <c>cache-store</c>) shared by every route that uses the same Redis and prefix.
    /// </summary>
    public async ValueTask<ICacheStore> StoreForAsync(RouteCacheOptions options, RedisOptions? redis, RuntimeObjects runtime) =>
        options.Store == CacheStoreKind.Redis && redis is not null && !runtime.CheckOnly
            ? await runtime.GetOrCreateAsync("cache-store", redis.Connection + "\n" + redis.KeyPrefix + "\n" + redis.Timeout.Ticks, () => RedisStoreAsync(redis))
            : Memory;

    /// <summary>The node's memory store follows <c>cache.memory.maxBytes</c> of the snapshot being compiled to serve.</summary>
    public void Resize(CacheOptions options, RuntimeObjects runtime)
    {
        if (!runtime.CheckOnly)
        {
            Memory.MaxBytes = options.MemoryMaxBytes;
        }
    }

    // Not inlined: a gateway without Redis caches never loads the Redis client (see RateLimitCompiler).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private async Task<ICacheStore> RedisStoreAsync(RedisOptions options)
    {
        var connection = await services.GetRequiredService<RedisConnections>().GetAsync(options);
        var store = new RedisCacheStore(connection, options, metrics, loggers.CreateLogger<RedisCacheStore>());

        // Purge reaches every store this node has written to, also one a later reload stopped using.
        _redis.Add(store);
        return store;
    }
}
