using Gatehouse.Configuration;

namespace Gatehouse.Policies.RateLimiting;

public enum RateLimitAlgorithm
{
    /// <summary>Generic cell rate algorithm: a continuously refilled bucket of <c>burst</c> requests, one timestamp per key.</summary>
    Gcra,

    /// <summary><c>limit</c> tokens added every <c>window</c> in one step (Envoy's and System.Threading.RateLimiting's bucket), at most <c>burst</c>.</summary>
    TokenBucket,

    /// <summary>Sliding-window counter: this window's count plus the previous one's, weighted by how much of it still overlaps.</summary>
    SlidingWindow,

    /// <summary><c>limit</c> requests per window, windows aligned to the clock (the same on every node).</summary>
    FixedWindow,

    /// <summary>At most <c>limit</c> requests in flight at once.</summary>
    Concurrency,
}

public enum RateLimitStoreKind
{
    Memory,
    Redis,

    /// <summary>Redis, but each node reserves <c>batch</c> requests at a time and admits them locally (GCRA only).</summary>
    Hybrid,
}

public enum RateLimitHeaderMode
{
    /// <summary>RateLimit and RateLimit-Policy on every response of the route (default).</summary>
    Always,

    /// <summary>Only on 429 answers.</summary>
    OnReject,

    Never,
}

/// <summary>
/// <c>rateLimits: { per-consumer: { algorithm: gcra, limit: 100, window: 1m, burst: 20, key: consumer } }</c>: a named
/// limit that routes apply with <c>rateLimit: [per-consumer]</c>. Counters are kept per policy and key, never shared
/// between two policies that happen to produce the same key.
/// </summary>
public sealed record RateLimitPolicyOptions : ConfigSection
{
    internal static readonly string[] Keys = ["algorithm", "limit", "window", "burst", "key", "store", "onStoreFailure", "mode", "headers", "legacyHeaders", "batch", "maxKeys", "ipv6Prefix"];

    /// <summary>Largest limit of a sliding window: its two counters share one 64-bit word with the window number (see MemoryRateLimiter).</summary>
    internal const int MaxSlidingWindowLimit = 2_000_000;

    public required string Name { get; init; }

    public RateLimitAlgorithm Algorithm { get; init; } = RateLimitAlgorithm.Gcra;

    /// <summary>Requests per <see cref="Window"/> (for <c>concurrency</c>: requests in flight).</summary>
    public int Limit { get; init; }

    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Requests admitted at once after a quiet spell (gcra, tokenBucket). Default: <see cref="Limit"/>.</summary>
    public int? Burst { get; init; }

    /// <summary>What one counter is kept for: <c>ip</c>, <c>consumer</c>, <c>route</c>, <c>header:NAME</c>, <c>claim:PATH</c>, or a list of them. Default <c>ip</c>.</summary>
    public IReadOnlyList<string> Key { get; init; } = ["ip"];

    public RateLimitStoreKind Store { get; init; } = RateLimitStoreKind.Memory;

    /// <summary>When Redis is slow or down: admit (default) or refuse with 503.</summary>
    public bool DenyOnStoreFailure { get; init; }

    /// <summary>Shadow mode decides, counts and sends the headers but never refuses: for trying a limit on live traffic.</summary>
    public bool Shadow { get; init; }

    public RateLimitHeaderMode Headers { get; init; } = RateLimitHeaderMode.Always;

    /// <summary>With <c>store: hybrid</c>: requests a node reserves from Redis in one call. Default 10.</summary>
    public int Batch { get; init; } = 10;

    /// <summary>
    /// The most keys (partitions) one policy keeps on this node; past it the least recently used are forgotten (they
    /// start with a whole quota again) and counted. Default 100,000 (about 10 MB).
    /// </summary>
    public int MaxKeys { get; init; } = 100_000;

    /// <summary>IPv6 clients are keyed by this prefix of their address (one /64 is one subscriber). Default 64.</summary>
    public int Ipv6Prefix { get; init; } = 64;

    /// <summary>Redis or hybrid: the counters are shared.</summary>
    internal bool Shared => Store != RateLimitStoreKind.Memory;

    /// <summary>Also send <c>X-RateLimit-Limit</c>, <c>-Remaining</c> and <c>-Reset</c>, for clients written against the older convention.</summary>
    public bool LegacyHeaders { get; init; }

    internal int EffectiveBurst => Burst ?? Limit;

    private static readonly Dictionary<string, RateLimitAlgorithm> AlgorithmNames = new()
    {
        ["gcra"] = RateLimitAlgorithm.Gcra,
        ["tokenBucket"] = RateLimitAlgorithm.TokenBucket,
        ["slidingWindow"] = RateLimitAlgorithm.SlidingWindow,
        ["fixedWindow"] = RateLimitAlgorithm.FixedWindow,
        ["concurrency"] = RateLimitAlgorithm.Concurrency,
    };

    private static readonly Dictionary<string, RateLimitStoreKind> StoreNames = new()
    {
        ["memory"] = RateLimitStoreKind.Memory,
        ["redis"] = RateLimitStoreKind.Redis,
        ["hybrid"] = RateLimitStoreKind.Hybrid,
    };

    private static readonly Dictionary<string, bool> FailureNames = new() { ["allow"] = false, ["deny"] = true };

    private static readonly Dictionary<string, bool> ModeNames = new() { ["enforce"] = false, ["shadow"] = true };

    private static readonly Dictionary<string, RateLimitHeaderMode> HeaderNames = new()
    {
        ["always"] = RateLimitHeaderMode.Always,
        ["onReject"] = RateLimitHeaderMode.OnReject,
        ["never"] = RateLimitHeaderMode.Never,
    };

    internal static RateLimitPolicyOptions? Read(string name, ConfigNodeReader r)
    {
        var limit = r.Int("limit", 1, int.MaxValue);
        if (limit is null)
        {
            if (!r.Has("limit"))
            {
                r.Context.Diagnostics.Error(r.Position, $"rateLimits.{name} needs a 'limit' (requests per window)");
            }

            return null;
        }

        var defaults = new RateLimitPolicyOptions { Name = name, Limit = limit.Value };
        return defaults with
        {
            Position = r.Position,
            KeyPositions = r.KeyPositions,
            Algorithm = r.Enum("algorithm", AlgorithmNames) ?? defaults.Algorithm,
            Window = r.Duration("window") ?? defaults.Window,
            Burst = r.Int("burst", 1, int.MaxValue),
            Key = r.StringList("key") ?? defaults.Key,
            Store = r.Enum("store", StoreNames) ?? defaults.Store,
            DenyOnStoreFailure = r.Enum("onStoreFailure", FailureNames) ?? false,
            Shadow = r.Enum("mode", ModeNames) ?? false,
            Headers = r.Enum("headers", HeaderNames) ?? defaults.Headers,
            LegacyHeaders = r.Bool("legacyHeaders") ?? false,
            Batch = r.Int("batch", 2, 1000) ?? defaults.Batch,
            MaxKeys = r.Int("maxKeys", 100, 100_000_000) ?? defaults.MaxKeys,
            Ipv6Prefix = r.Int("ipv6Prefix", 1, 128) ?? defaults.Ipv6Prefix,
        };
    }

    internal static void Validate(RateLimitPolicyOptions options, bool redisConfigured, ConfigDiagnostics diagnostics)
    {
        var where = $"rateLimits.{options.Name}";
        if (options.Key.Count == 0)
        {
            diagnostics.Error(options.PositionOf("key"), $"{where}.key needs at least one part: ip, consumer, route, header:NAME or claim:PATH");
        }

        foreach (var part in options.Key)
        {
            if (RateLimitKey.ValidatePart(part) is { } error)
            {
                diagnostics.Error(options.PositionOf("key"), $"{where}.key: {error}");
            }
        }

        if (options.Key.Distinct(StringComparer.Ordinal).Count() != options.Key.Count)
        {
            diagnostics.Error(options.PositionOf("key"), $"{where}.key lists a part twice");
        }

        if (options.Window < TimeSpan.FromMilliseconds(100) && options.Algorithm != RateLimitAlgorithm.Concurrency)
        {
            diagnostics.Error(options.PositionOf("window"), $"{where}.window must be at least 100ms");
        }

        if (options.Window > TimeSpan.FromDays(1))
        {
            diagnostics.Error(options.PositionOf("window"), $"{where}.window must be at most 1d (longer quotas belong in a billing system, not a gateway counter)");
        }

        if (options.Burst is not null && options.Algorithm is not (RateLimitAlgorithm.Gcra or RateLimitAlgorithm.TokenBucket))
        {
            diagnostics.Error(options.PositionOf("burst"), $"{where}.burst applies to gcra and tokenBucket only");
        }

        if (options.Algorithm == RateLimitAlgorithm.SlidingWindow && options.Limit > MaxSlidingWindowLimit)
        {
            diagnostics.Error(options.PositionOf("limit"), $"{where}.limit: a slidingWindow counts at most {MaxSlidingWindowLimit:N0} per window; use gcra for more");
        }

        if (options.Algorithm == RateLimitAlgorithm.Gcra && options.Window.Ticks / options.Limit < 1)
        {
            diagnostics.Error(options.PositionOf("limit"), $"{where}: more than one request per 100ns cannot be timed; raise the window");
        }

        if (options.Algorithm == RateLimitAlgorithm.Concurrency && options.Shared)
        {
            // A lease held in Redis by a node that dies is never given back; concurrency is a per-node limit.
            diagnostics.Error(options.PositionOf("store"), $"{where}: a concurrency limit is kept in memory on each node (a node that dies would leak its Redis leases)");
        }

        if (options.Algorithm == RateLimitAlgorithm.Concurrency && options.KeyPositions?.ContainsKey("window") == true)
        {
            diagnostics.Error(options.PositionOf("window"), $"{where}.window does not apply to a concurrency limit");
        }

        if (options.Shared && !redisConfigured)
        {
            diagnostics.Error(options.PositionOf("store"), $"{where} uses store: {(options.Store == RateLimitStoreKind.Hybrid ? "hybrid" : "redis")}, but there is no top-level 'redis: {{ connection: \"host:6379\" }}'");
        }

        if (options.Store == RateLimitStoreKind.Hybrid && options.Algorithm != RateLimitAlgorithm.Gcra)
        {
            diagnostics.Error(options.PositionOf("store"), $"{where}: store: hybrid works with algorithm: gcra only");
        }

        if (options.Store != RateLimitStoreKind.Hybrid && options.KeyPositions?.ContainsKey("batch") == true)
        {
            diagnostics.Error(options.PositionOf("batch"), $"{where}.batch applies to store: hybrid only");
        }

        if (options.Store == RateLimitStoreKind.Hybrid && options.Batch > options.EffectiveBurst)
        {
            diagnostics.Error(options.PositionOf("batch"), $"{where}.batch ({options.Batch}) cannot exceed the burst ({options.EffectiveBurst})");
        }

        if (options.Store == RateLimitStoreKind.Memory && options.KeyPositions?.ContainsKey("onStoreFailure") == true)
        {
            diagnostics.Error(options.PositionOf("onStoreFailure"), $"{where}.onStoreFailure applies to store: redis only (memory cannot fail)");
        }
    }
}
