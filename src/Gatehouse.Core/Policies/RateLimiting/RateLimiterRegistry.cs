using Gatehouse.Configuration;
using Gatehouse.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.RateLimiting;

/// <summary>
/// Gives each compiled policy its limiter before the snapshot goes live. A policy whose counting settings did not
/// change on reload keeps the limiter it had, counters and all; a changed or new one starts afresh; one no longer
/// in the config is dropped.
/// </summary>
internal sealed class RateLimiterRegistry(TimeProvider time, IServiceProvider services, RateLimitMetrics metrics, ILoggerFactory loggers) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<string, RateLimiter> _byDefinition = new(StringComparer.Ordinal);

    public async Task AttachAsync(GatewaySnapshot snapshot)
    {
        await _gate.WaitAsync();
        try
        {
            var next = new Dictionary<string, RateLimiter>(StringComparer.Ordinal);
            foreach (var policy in snapshot.RateLimits.Values)
            {
                if (!_byDefinition.TryGetValue(policy.Definition, out var limiter))
                {
                    if (policy.Redis is { } options)
                    {
                        limiter = await CreateRedisLimiterAsync(policy, options);
                    }
                    else
                    {
                        limiter = new MemoryRateLimiter(policy.Options, time);
                    }
                }

                next[policy.Definition] = limiter;
                policy.Limiter = limiter;
                policy.Decisions = metrics.DecisionsOf(policy.Name);
            }

            foreach (var (definition, limiter) in _byDefinition)
            {
                if (!next.ContainsKey(definition))
                {
                    // Requests of the old snapshot still in flight may use it: it keeps working, it only stops sweeping.
                    limiter.Dispose();
                }
            }

            _byDefinition = next;
        }
        finally
        {
            _gate.Release();
        }
    }

    // A method of its own (not inlined) so that compiling AttachAsync does not load StackExchange.Redis: a gateway
    // without Redis policies never loads the Redis client at all (about 2 MiB of idle memory).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private async Task<RateLimiter> CreateRedisLimiterAsync(RateLimitPolicy policy, RedisOptions options)
    {
        var redis = services.GetRequiredService<RedisConnections>();
        var limiter = new RedisRateLimiter(policy.Options, options, await redis.GetAsync(options), time, metrics, loggers.CreateLogger<RedisRateLimiter>());
        await limiter.WarmAsync();
        return limiter;
    }

    public void Dispose()
    {
        foreach (var limiter in _byDefinition.Values)
        {
            limiter.Dispose();
        }

        _gate.Dispose();
    }
}
