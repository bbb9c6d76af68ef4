using System.Globalization;
using Gatehouse.Redis;

namespace Gatehouse.Policies.RateLimiting;

/// <summary>
/// A <c>rateLimits</c> entry, compiled: its key, its header texts, the counters it counts in and its decision counts.
/// Complete when made (<see cref="RateLimitCompiler"/>); nothing is attached later.
/// </summary>
internal sealed class RateLimitPolicy
{
    public RateLimitPolicy(RateLimitPolicyOptions options, RedisOptions? redis, RateLimitCounters limiter, RateLimitMetrics.DecisionCounts decisions)
    {
        Limiter = limiter;
        Decisions = decisions;
        Options = options;
        Name = options.Name;
        Key = RateLimitKey.Compile(options.Key, options.Ipv6Prefix);
        Redis = options.Shared ? redis : null;
        var window = (long)Math.Ceiling(options.Window.TotalSeconds);
        PolicyItem = options.Algorithm == RateLimitAlgorithm.Concurrency
            ? string.Create(CultureInfo.InvariantCulture, $"\"{Name}\";q={options.Limit};qu=\"concurrent-requests\"")
            : string.Create(CultureInfo.InvariantCulture, $"\"{Name}\";q={options.Limit};w={window}");

        _limitPrefix = $"\"{Name}\";r=";

        Definition = DefinitionOf(options, redis);
    }

    /// <summary>What the counters depend on: a reload that keeps all of it keeps the counters; mode and headers may change freely.</summary>
    public static string DefinitionOf(RateLimitPolicyOptions options, RedisOptions? redis)
    {
        redis = options.Shared ? redis : null;
        return string.Join('|', options.Name, options.Algorithm, options.Limit, options.Window.Ticks, options.EffectiveBurst, string.Join(',', options.Key), options.Store, options.Batch, options.MaxKeys,
            redis?.Connection, redis?.KeyPrefix, redis?.Timeout.Ticks, options.DenyOnStoreFailure);
    }

    public string Name { get; }

    public RateLimitPolicyOptions Options { get; }

    public RateLimitKey Key { get; }

    /// <summary>The Redis the counters live in, or null for memory.</summary>
    public RedisOptions? Redis { get; }

    /// <summary>This policy's item of the <c>RateLimit-Policy</c> field: <c>"name";q=100;w=60</c>.</summary>
    public string PolicyItem { get; }

    public string Definition { get; }

    private readonly string _limitPrefix;

    /// <summary>
    /// This policy's item of the <c>RateLimit</c> field, <c>"name";r=42;t=30</c>, built into one string of exactly
    /// the right length: it is the one allocation a limited request adds.
    /// </summary>
    public string LimitItem(long remaining, TimeSpan reset)
    {
        var r = Math.Max(0, remaining);
        var t = Seconds.Ceiling(reset);
        return string.Create(_limitPrefix.Length + Digits(r) + 3 + Digits(t), (_limitPrefix, r, t), static (span, state) =>
        {
            state._limitPrefix.CopyTo(span);
            var at = state._limitPrefix.Length;
            state.r.TryFormat(span[at..], out var written, default, CultureInfo.InvariantCulture);
            at += written;
            ";t=".CopyTo(span[at..]);
            state.t.TryFormat(span[(at + 3)..], out _, default, CultureInfo.InvariantCulture);
        });
    }

    private static int Digits(long value)
    {
        var digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }

        return digits;
    }

    /// <summary>Where the counters are.</summary>
    public RateLimitCounters Limiter { get; }

    /// <summary>This policy's decision counts (kept by name across reloads).</summary>
    public RateLimitMetrics.DecisionCounts Decisions { get; }

    public bool IsMemory => Options.Store == RateLimitStoreKind.Memory;
}

/// <summary>A route's <c>rateLimit: [a, b]</c>: its policies in order, and the <c>RateLimit-Policy</c> field they make.</summary>
internal sealed class RouteRateLimits
{
    public RouteRateLimits(RateLimitPolicy[] policies)
    {
        Policies = policies;
        PolicyHeader = string.Join(", ", policies.Where(p => p.Options.Headers == RateLimitHeaderMode.Always).Select(p => p.PolicyItem));
        RejectionPolicyHeader = string.Join(", ", policies.Where(p => p.Options.Headers != RateLimitHeaderMode.Never).Select(p => p.PolicyItem));
        AllMemory = policies.All(p => p.IsMemory);
    }

    public RateLimitPolicy[] Policies { get; }

    /// <summary>RateLimit-Policy on admitted responses: the policies with <c>headers: always</c>.</summary>
    public string PolicyHeader { get; }

    /// <summary>RateLimit-Policy on a 429: <c>always</c> and <c>onReject</c> policies.</summary>
    public string RejectionPolicyHeader { get; }

    /// <summary>Every decision is local: the stage runs without an await.</summary>
    public bool AllMemory { get; }
}
