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
    private readonly ConcurrentDictionary<string, ICacheStore> _redis = new(StringComparer.Ordinal);

    public MemoryCacheStore Memory { get; } = new(new CacheOptions().MemoryMaxBytes);

    /// <summary>Misses being fetched, by key: the first request fetches, the others wait for its entry (request coalescing).</summary>
    public ConcurrentDictionary<string, TaskCompletionSource<SharedAnswer?>> InFlight { get; } = new(StringComparer.Ordinal);

    /// <summary>Keys with a stale-while-revalidate refresh running, so one stale entry triggers one refresh.</summary>
    public ConcurrentDictionary<string, byte> Refreshing { get; } = new(StringComparer.Ordinal);

    public IEnumerable<ICacheStore> Stores => _redis.Values.Prepend(Memory);

    public async Task AttachAsync(GatewaySnapshot snapshot)
    {
        Memory.MaxBytes = snapshot.Options.Cache.MemoryMaxBytes;
        foreach (var route in snapshot.Routes.Values)
        {
            if (route.Cache is { } policy)
            {
                policy.Attached = policy.Store == CacheStoreKind.Redis && snapshot.Options.Redis is { } redis
                    ? await RedisStoreAsync(redis)
                    : Memory;
            }
        }
    }

    // Not inlined: a gateway without Redis caches never loads the Redis client (see RateLimiterRegistry).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private async Task<ICacheStore> RedisStoreAsync(RedisOptions options)
    {
        var id = options.Connection + "\n" + options.KeyPrefix + "\n" + options.Timeout.Ticks;
        if (_redis.TryGetValue(id, out var store))
        {
            return store;
        }

        var connection = await services.GetRequiredService<RedisConnections>().GetAsync(options);
        return _redis.GetOrAdd(id, new RedisCacheStore(connection, options, metrics, loggers.CreateLogger<RedisCacheStore>()));
    }
}
