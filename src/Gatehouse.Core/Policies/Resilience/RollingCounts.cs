namespace Gatehouse.Policies.Resilience;

/// <summary>
/// Two counts (e.g. requests and retries, calls and failures) over a sliding window of ten buckets, updated with
/// interlocked operations only: requests on every core add to it, so a lock here would be contended on the hot
/// path. A bucket that is reused for a new slice of time is reset by whoever claims it first; an increment racing
/// with that reset can be lost, which makes the counts approximate by a few in a burst, never unbounded.
/// </summary>
internal sealed class RollingCounts
{
    private const int BucketCount = 10;

    private readonly Bucket[] _buckets = new Bucket[BucketCount];
    private readonly TimeProvider _time;
    private readonly long _bucketTicks;

    public RollingCounts(TimeSpan window, TimeProvider time)
    {
        _time = time;
        Window = window;

        // Timestamps are in the provider's frequency; buckets are a tenth of the window each, at least one tick.
        _bucketTicks = Math.Max(1, (long)(window.TotalSeconds * time.TimestampFrequency / BucketCount));
        for (var i = 0; i < BucketCount; i++)
        {
            _buckets[i] = new Bucket { Slice = long.MinValue };
        }
    }

    public TimeSpan Window { get; }

    public void AddFirst() => Interlocked.Increment(ref Current().First);

    public void AddSecond() => Interlocked.Increment(ref Current().Second);

    /// <summary>Adds to the first count, and to the second when <paramref name="second"/>; one bucket lookup.</summary>
    public void Add(bool second)
    {
        var bucket = Current();
        Interlocked.Increment(ref bucket.First);
        if (second)
        {
            Interlocked.Increment(ref bucket.Second);
        }
    }

    /// <summary>The totals over the window.</summary>
    public (long First, long Second) Sum()
    {
        var slice = _time.GetTimestamp() / _bucketTicks;
        long first = 0, second = 0;
        foreach (var bucket in _buckets)
        {
            var s = Volatile.Read(ref bucket.Slice);
            if (s > slice - BucketCount && s <= slice)
            {
                first += Volatile.Read(ref bucket.First);
                second += Volatile.Read(ref bucket.Second);
            }
        }

        return (first, second);
    }

    public void Reset()
    {
        foreach (var bucket in _buckets)
        {
            Volatile.Write(ref bucket.Slice, long.MinValue);
            Volatile.Write(ref bucket.First, 0);
            Volatile.Write(ref bucket.Second, 0);
        }
    }

    private Bucket Current()
    {
        var slice = _time.GetTimestamp() / _bucketTicks;
        var bucket = _buckets[(int)(slice % BucketCount)];
        var seen = Volatile.Read(ref bucket.Slice);
        if (seen != slice && seen < slice && Interlocked.CompareExchange(ref bucket.Slice, slice, seen) == seen)
        {
            Interlocked.Exchange(ref bucket.First, 0);
            Interlocked.Exchange(ref bucket.Second, 0);
        }

        return bucket;
    }

    private sealed class Bucket
    {
        public long Slice;
        public long First;
        public long Second;
    }
}
