using System.Collections.Frozen;
using Gatehouse.Configuration;
using Gatehouse.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.RateLimiting;

/// <summary>
/// Compiles the <c>rateLimits</c> policies of a config, each with its counters: a policy whose counting settings
/// (<see cref="RateLimitPolicy.DefinitionOf"/>) did not change on reload keeps the counters it had; a changed or new
/// one starts afresh; one no longer in the config has its counters disposed after the swap.
/// </summary>
internal sealed class RateLimitCompiler(TimeProvider time, IServiceProvider services, RateLimitMetrics metrics, ILoggerFactory loggers)
{
    public const string CountersKind = "rate-limit-counters";

    public async Task<FrozenDictionary<string, RateLimitPolicy>> CompileAsync(GatewayOptions options, RuntimeObjects runtime)
    {
        var policies = new Dictionary<string, RateLimitPolicy>(StringComparer.Ordinal);
        foreach (var policy in options.RateLimits)
        {
            var redis = policy.Shared ? options.Redis : null;
            var counters = await runtime.GetOrCreateAsync(CountersKind, RateLimitPolicy.DefinitionOf(policy, options.Redis), () =>
                redis is null || runtime.CheckOnly
                    ? Task.FromResult<RateLimitCounters>(new MemoryRateLimiter(policy, time, counts: metrics.DecisionsOf(policy.Name)))
                    : CreateRedisLimiterAsync(policy, redis));
            policies[policy.Name] = new RateLimitPolicy(policy, options.Redis, counters, metrics.DecisionsOf(policy.Name));
        }

        return policies.ToFrozenDictionary(StringComparer.Ordinal);
    }

    // A method of its own (not inlined) so that compiling CompileAsync does not load StackExchange.Redis: a gateway
    // without Redis policies never loads the Redis client at all (about 2 MiB of idle memory).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private async Task<RateLimitCounters> CreateRedisLimiterAsync(RateLimitPolicyOptions policy, RedisOptions options)
    {
        var redis = services.GetRequiredService<RedisConnections>();
        var limiter = new RedisRateLimiter(policy, options, await redis.GetAsync(options), time, metrics, loggers.CreateLogger<RedisRateLimiter>());
        await limiter.WarmAsync();
        return limiter;
    }
}
