using Gatehouse.Core.Tests.Common;
using Gatehouse.Policies.RateLimiting;

namespace Gatehouse.Core.Tests.Policies.RateLimiting;

/// <summary>The algorithms on virtual time: exact admits, refill, burst, Retry-After.</summary>
[Collection(MemoryMeasurements.Name)]
public class MemoryRateLimiterTests
{
    private static (MemoryRateLimiter Limiter, ManualTime Time) Create(RateLimitAlgorithm algorithm, int limit, TimeSpan window, int? burst = null, int maxKeys = 100_000)
    {
        var time = new ManualTime();
        var options = new RateLimitPolicyOptions { Name = "p", Algorithm = algorithm, Limit = limit, Window = window, Burst = burst, MaxKeys = maxKeys };
        return (new MemoryRateLimiter(options, time, sweep: false), time);
    }

    private static int AdmitAll(MemoryRateLimiter limiter, int attempts, object key)
    {
        var admitted = 0;
        for (var i = 0; i < attempts; i++)
        {
            admitted += limiter.Acquire(key).Allowed ? 1 : 0;
        }

        return admitted;
    }

    [Fact]
    public void Gcra_AdmitsBurstAtOnce_ThenOnePerInterval()
    {
        var (limiter, time) = Create(RateLimitAlgorithm.Gcra, 60, TimeSpan.FromMinutes(1), burst: 10);

        var first = limiter.Acquire("k");
        Assert.True(first.Allowed);
        Assert.Equal(9, first.Remaining);
        Assert.Equal(TimeSpan.FromSeconds(1), first.Reset);
        Assert.Equal(9, AdmitAll(limiter, 9, "k"));

        var refused = limiter.Acquire("k");
        Assert.False(refused.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(10), refused.Reset);

        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(limiter.Acquire("k").Allowed);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(limiter.Acquire("k").Allowed);
        Assert.False(limiter.Acquire("k").Allowed);
    }

    [Fact]
    public void Gcra_RefillsWholeBurst_AfterQuietSpell_AndNeverMore()
    {
        var (limiter, time) = Create(RateLimitAlgorithm.Gcra, 60, TimeSpan.FromMinutes(1), burst: 10);
        Assert.Equal(10, AdmitAll(limiter, 20, "k"));

        time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(10, AdmitAll(limiter, 20, "k"));
    }

    [Fact]
    public void Gcra_DefaultBurst_IsTheLimit_AndKeysAreSeparate()
    {
        var (limiter, _) = Create(RateLimitAlgorithm.Gcra, 300, TimeSpan.FromMinutes(1));

        Assert.Equal(300, AdmitAll(limiter, 400, "a"));
        Assert.Equal(300, AdmitAll(limiter, 400, "b"));
        Assert.Equal(300, AdmitAll(limiter, 400, System.Net.IPAddress.Loopback));
    }

    [Fact]
    public void Gcra_SustainedRate_MatchesLimit()
    {
        var (limiter, time) = Create(RateLimitAlgorithm.Gcra, 100, TimeSpan.FromMinutes(1), burst: 5);
        var admitted = 0;

        // Ten minutes of a request every 100ms (10x the rate): 5 burst + 100 per minute.
        for (var i = 0; i < 6000; i++)
        {
            admitted += limiter.Acquire("k").Allowed ? 1 : 0;
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.InRange(admitted, 1000, 1005);
    }

    [Fact]
    public void FixedWindow_CountsPerClockAlignedWindow()
    {
        var (limiter, time) = Create(RateLimitAlgorithm.FixedWindow, 5, TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(5, AdmitAll(limiter, 8, "k"));
        var refused = limiter.Acquire("k");
        Assert.Equal(TimeSpan.FromSeconds(8), refused.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(8), refused.Reset);

        time.Advance(TimeSpan.FromSeconds(8));
        var next = limiter.Acquire("k");
        Assert.True(next.Allowed);
        Assert.Equal(4, next.Remaining);
    }

    [Fact]
    public void TokenBucket_RefillsLimitPerWindow_UpToBurst()
    {
        var (limiter, time) = Create(RateLimitAlgorithm.TokenBucket, 2, TimeSpan.FromSeconds(1), burst: 4);
        time.Advance(TimeSpan.FromMilliseconds(250));

        Assert.Equal(4, AdmitAll(limiter, 6, "k"));
        Assert.Equal(TimeSpan.FromMilliseconds(750), limiter.Acquire("k").RetryAfter);

        time.Advance(TimeSpan.FromMilliseconds(750));
        Assert.Equal(2, AdmitAll(limiter, 6, "k"));

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(4, AdmitAll(limiter, 6, "k"));
    }

    [Fact]
    public void SlidingWindow_WeighsThePreviousWindow()
    {
        var (limiter, time) = Create(RateLimitAlgorithm.SlidingWindow, 10, TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(10, AdmitAll(limiter, 15, "k"));

        // Halfway into the next window the previous one counts half: 5 of 10 used.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(5, AdmitAll(limiter, 15, "k"));

        var refused = limiter.Acquire("k");
        Assert.False(refused.Allowed);
        Assert.True(refused.RetryAfter > TimeSpan.Zero && refused.RetryAfter <= TimeSpan.FromSeconds(5), refused.RetryAfter.ToString());
    }

    [Fact]
    public void Concurrency_LimitsInFlight_UntilLeasesReturn()
    {
        var (limiter, _) = Create(RateLimitAlgorithm.Concurrency, 2, TimeSpan.FromMinutes(1));

        var a = limiter.Acquire("k");
        var b = limiter.Acquire("k");
        Assert.True(a.Allowed && b.Allowed);
        Assert.False(limiter.Acquire("k").Allowed);

        MemoryRateLimiter.Release(a.Lease!);
        var c = limiter.Acquire("k");
        Assert.True(c.Allowed);
        Assert.Equal(0, c.Remaining);
    }

    [Fact]
    public async Task HotKey_FromManyThreads_AdmitsExactlyTheBurst()
    {
        var (limiter, _) = Create(RateLimitAlgorithm.Gcra, 1000, TimeSpan.FromHours(1));
        var admitted = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 500; i++)
            {
                if (limiter.Acquire("hot").Allowed)
                {
                    Interlocked.Increment(ref admitted);
                }
            }
        })));

        Assert.Equal(1000, admitted);
    }

    [Fact]
    public void Sweep_EvictsOnlyKeysWhoseQuotaIsWholeAgain()
    {
        var (limiter, time) = Create(RateLimitAlgorithm.Gcra, 10, TimeSpan.FromSeconds(10));
        AdmitAll(limiter, 10, "busy");
        time.Advance(TimeSpan.FromSeconds(9.5));
        AdmitAll(limiter, 1, "recent");
        time.Advance(TimeSpan.FromSeconds(0.5));

        limiter.Sweep();

        // 'busy' used its whole burst 10s ago and is whole again; 'recent' still owes half a second.
        Assert.Equal(1, limiter.Count);
        Assert.Equal(8, limiter.Acquire("recent").Remaining);
        Assert.Equal(9, limiter.Acquire("busy").Remaining);
    }

    [Fact]
    public void MillionKeys_StayBounded_AndEvictionReturnsTheMemory()
    {
        const int Keys = 1_000_000;
        // This measures bytes per key, so the key cap (maxKeys, default 100,000) is raised above the count.
        var (limiter, time) = Create(RateLimitAlgorithm.Gcra, 100, TimeSpan.FromMinutes(1), maxKeys: 2 * Keys);
        var keys = new object[Keys];
        for (var i = 0; i < Keys; i++)
        {
            keys[i] = new System.Net.IPAddress(i + 1);
        }

        var before = GC.GetTotalMemory(forceFullCollection: true);
        foreach (var key in keys)
        {
            limiter.Acquire(key);
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        var bytesPerKey = (after - before) / (double)Keys;
        Assert.Equal(Keys, limiter.Count);

        time.Advance(TimeSpan.FromMinutes(1));
        limiter.Sweep();
        var swept = GC.GetTotalMemory(forceFullCollection: true);

        Assert.Equal(0, limiter.Count);

        // A dictionary entry and a one-word cell; the figure goes into docs/benchmarks.md.
        Assert.InRange(bytesPerKey, 16, 128);
        Assert.True(swept - before < Keys * 16L, $"after the sweep {(swept - before) / (double)Keys:F1} bytes per key remain");
        Console.WriteLine($"rate-limit memory store: {bytesPerKey:F1} bytes per key; {(swept - before) / (double)Keys:F1} after eviction");
    }
}

/// <summary>Tests that measure the heap run alone: another test allocating meanwhile would count as theirs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurements
{
    public const string Name = "memory measurements";
}
