using System.Collections.Concurrent;

namespace Gatehouse.Policies.RateLimiting;

/// <summary>
/// A policy's counters on this node: one <see cref="Cell"/> (a single 64-bit word) per partition, updated with
/// compare-and-swap, so two requests of one hot key never wait on a lock. Cells whose quota is whole again carry no
/// information and are evicted by a periodic sweep, so memory follows the keys active within one window, not all
/// keys ever seen (see docs/benchmarks.md for bytes per key). Keys are capped at <c>maxKeys</c>: past it the least
/// recently used cells are dropped off the request path (their callers start with a whole quota again) and counted,
/// since a key can be the caller's choice (<c>header:</c>) and a long window would otherwise hold every one.
/// </summary>
/// <remarks>
/// Hand-written rather than System.Threading.RateLimiting's <c>PartitionedRateLimiter</c>: that one takes a lock on
/// its partition table for every acquire, replenishes buckets from a timer that visits every partition, and costs a
/// few hundred bytes per key; its limiters also queue, which a gateway never wants. The algorithms here are the same
/// as the Redis scripts' (<see cref="RedisRateLimiter"/>), so a policy decides alike on either store.
/// Time is wall-clock aligned (Unix ticks at start plus monotonic elapsed time), so fixed windows start at the same
/// instants on every node and in Redis, and a clock step does not move them.
/// </remarks>
internal sealed class MemoryRateLimiter : RateLimitCounters
{
    /// <summary>A partition's state. Which bits mean what depends on the algorithm; <see cref="Dead"/> marks an evicted cell.</summary>
    internal sealed class Cell
    {
        public long State;

        /// <summary>When a request last used the cell (ticks of <see cref="Now"/>), for the least-recently-used trim.</summary>
        public long LastUsed;
    }

    private const long Dead = long.MinValue;

    private readonly ConcurrentDictionary<object, Cell> _cells = new();
    private readonly Func<object, Cell> _create;
    private readonly int _maxKeys;
    private readonly RateLimitMetrics.DecisionCounts? _counts;

    /// <summary>Cells held, kept by hand: <see cref="ConcurrentDictionary{TKey,TValue}.Count"/> takes every lock.</summary>
    private int _held;

    private int _trimming;
    private readonly TimeProvider _time;
    private readonly long _startTimestamp;
    private readonly long _startUnixTicks;
    private readonly ITimer? _sweeper;
    private readonly RateLimitAlgorithm _algorithm;
    private readonly long _limit;
    private readonly long _burst;
    private readonly long _window;

    /// <summary>GCRA's emission interval: the ticks one request uses of the quota.</summary>
    private readonly long _interval;

    public MemoryRateLimiter(RateLimitPolicyOptions options, TimeProvider time, bool sweep = true, RateLimitMetrics.DecisionCounts? counts = null)
    {
        _time = time;
        _maxKeys = options.MaxKeys;
        _counts = counts;
        _create = _ =>
        {
            Interlocked.Increment(ref _held);
            return new Cell();
        };
        _startTimestamp = time.GetTimestamp();
        _startUnixTicks = time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks;
        _algorithm = options.Algorithm;
        _limit = options.Limit;
        _burst = options.EffectiveBurst;
        _window = options.Window.Ticks;
        _interval = Math.Max(1, _window / _limit);
        if (sweep)
        {
            // Often enough that idle keys do not pile up, rarely enough that the sweep costs nothing measurable.
            var period = TimeSpan.FromTicks(Math.Clamp(_window, TimeSpan.TicksPerSecond, 10 * TimeSpan.TicksPerSecond));
            _sweeper = time.CreateTimer(static state => ((MemoryRateLimiter)state!).Sweep(), this, period, period);
        }
    }

    /// <summary>Partitions currently held.</summary>
    public int Count => _cells.Count;

    private long Now => _startUnixTicks + _time.GetElapsedTime(_startTimestamp).Ticks;

    public override ValueTask<RateLimitDecision> AcquireAsync(object partition) => new(Acquire(partition));

    public RateLimitDecision Acquire(object partition)
    {
        while (true)
        {
            var cell = _cells.GetOrAdd(partition, _create);
            cell.LastUsed = Now;
            if (Volatile.Read(ref _held) > _maxKeys && Interlocked.CompareExchange(ref _trimming, 1, 0) == 0)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static limiter => limiter.Trim(), this, preferLocal: false);
            }

            var decision = _algorithm switch
            {
                RateLimitAlgorithm.Gcra => Gcra(cell),
                RateLimitAlgorithm.TokenBucket => TokenBucket(cell),
                RateLimitAlgorithm.FixedWindow => FixedWindow(cell),
                RateLimitAlgorithm.SlidingWindow => SlidingWindow(cell),
                _ => Concurrency(cell),
            };
            if (decision is { } d)
            {
                return d;
            }

            // The sweeper evicted this cell between the lookup and the update: take it out (if the sweeper has not
            // yet) and start again with a fresh one, which is exactly what the evicted one held.
            Remove(partition, cell);
        }
    }

    private void Remove(object partition, Cell cell)
    {
        if (_cells.TryRemove(new KeyValuePair<object, Cell>(partition, cell)))
        {
            Interlocked.Decrement(ref _held);
        }
    }

    /// <summary>
    /// Over <c>maxKeys</c>: first the idle cells go (as in a sweep), then the least recently used down to 90% of the
    /// cap, so a trim runs once per tenth of the cap of new keys, not once per request. A cell in use by a
    /// concurrency lease is kept.
    /// </summary>
    internal void Trim()
    {
        try
        {
            Sweep();
            var excess = Volatile.Read(ref _held) - (_maxKeys - (_maxKeys / 10));
            if (excess <= 0)
            {
                return;
            }

            var oldest = _cells.Select(entry => (entry.Key, entry.Value, entry.Value.LastUsed)).OrderBy(entry => entry.LastUsed).Take(excess);
            foreach (var (partition, cell, _) in oldest.ToList())
            {
                var state = Volatile.Read(ref cell.State);
                if ((_algorithm != RateLimitAlgorithm.Concurrency || state == 0) && state != Dead
                    && Interlocked.CompareExchange(ref cell.State, Dead, state) == state)
                {
                    Remove(partition, cell);
                    if (_counts is not null)
                    {
                        Interlocked.Increment(ref _counts.EvictedKeys);
                    }
                }
            }
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }

    /// <summary>Gives back a concurrency lease.</summary>
    public static void Release(Cell cell) => Interlocked.Decrement(ref cell.State);

    private RateLimitDecision? Gcra(Cell cell)
    {
        var capacity = _burst * _interval;
        while (true)
        {
            var now = Now;
            var tat = Volatile.Read(ref cell.State);
            if (tat == Dead)
            {
                return null;
            }

            // The theoretical arrival time: when the bucket would be whole again. Admit if, with this request, it
            // lies no more than 'burst' intervals ahead.
            var next = Math.Max(tat, now) + _interval;
            var ahead = next - now;
            if (ahead > capacity)
            {
                return new RateLimitDecision(false, 0, TimeSpan.FromTicks(Math.Max(tat - now, 0)), TimeSpan.FromTicks(ahead - capacity));
            }

            if (Interlocked.CompareExchange(ref cell.State, next, tat) == tat)
            {
                return new RateLimitDecision(true, (capacity - ahead) / _interval, TimeSpan.FromTicks(ahead), TimeSpan.Zero);
            }
        }
    }

    // Token bucket, fixed window: high 32 bits the period number (mod 2^32), low 32 bits the count used in it.
    private static long Pack(uint period, long used) => ((long)period << 32) | (uint)used;

    private RateLimitDecision? TokenBucket(Cell cell)
    {
        while (true)
        {
            var now = Now;
            var period = (uint)(now / _window);
            var state = Volatile.Read(ref cell.State);
            if (state == Dead)
            {
                return null;
            }

            // Tokens used, less 'limit' for every period that began since: a whole bucket is used = 0, so a new cell is full.
            var elapsed = (long)unchecked(period - (uint)(state >>> 32));
            var used = Math.Max(0, (state & 0xFFFFFFFF) - (Math.Min(elapsed, _burst) * _limit));
            var nextPeriod = ((now / _window) + 1) * _window;
            if (used + 1 > _burst)
            {
                return new RateLimitDecision(false, 0, ResetOf(used, nextPeriod, now), TimeSpan.FromTicks(nextPeriod - now));
            }

            if (Interlocked.CompareExchange(ref cell.State, Pack(period, used + 1), state) == state)
            {
                return new RateLimitDecision(true, _burst - used - 1, ResetOf(used + 1, nextPeriod, now), TimeSpan.Zero);
            }
        }
    }

    private TimeSpan ResetOf(long used, long nextPeriod, long now) =>
        used == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(nextPeriod - now + (((used - 1) / _limit) * _window));

    private RateLimitDecision? FixedWindow(Cell cell)
    {
        while (true)
        {
            var now = Now;
            var window = (uint)(now / _window);
            var state = Volatile.Read(ref cell.State);
            if (state == Dead)
            {
                return null;
            }

            var count = (uint)(state >>> 32) == window ? state & 0xFFFFFFFF : 0;
            var reset = TimeSpan.FromTicks((((now / _window) + 1) * _window) - now);
            if (count >= _limit)
            {
                return new RateLimitDecision(false, 0, reset, reset);
            }

            if (Interlocked.CompareExchange(ref cell.State, Pack(window, count + 1), state) == state)
            {
                return new RateLimitDecision(true, _limit - count - 1, reset, TimeSpan.Zero);
            }
        }
    }

    // Sliding window: window number (mod 2^22) in the high 22 bits, the previous window's count and this one's in 21 bits each.
    private const int CountBits = 21;
    private const long CountMask = (1L << CountBits) - 1;
    private const long WindowMask = (1L << 22) - 1;

    private RateLimitDecision? SlidingWindow(Cell cell)
    {
        while (true)
        {
            var now = Now;
            var window = now / _window;
            var state = Volatile.Read(ref cell.State);
            if (state == Dead)
            {
                return null;
            }

            var (previous, current) = Counts(state, window);
            var intoWindow = now - (window * _window);

            // The previous window's count, weighted by the share of it the sliding window still covers.
            var estimate = (previous * (_window - intoWindow) / _window) + current;
            var windowEnd = _window - intoWindow;
            if (estimate + 1 > _limit)
            {
                return new RateLimitDecision(false, 0, TimeSpan.FromTicks(windowEnd + (current > 0 ? _window : 0)), TimeSpan.FromTicks(SlidingRetryAfter(_limit, _window, previous, current, intoWindow)));
            }

            var next = ((window & WindowMask) << (2 * CountBits)) | (previous << CountBits) | (current + 1);
            if (Interlocked.CompareExchange(ref cell.State, next, state) == state)
            {
                return new RateLimitDecision(true, _limit - estimate - 1, TimeSpan.FromTicks(windowEnd + _window), TimeSpan.Zero);
            }
        }
    }

    private static (long Previous, long Current) Counts(long state, long window)
    {
        var stored = (state >>> (2 * CountBits)) & WindowMask;
        var behind = (window - stored) & WindowMask;
        return behind switch
        {
            0 => ((state >>> CountBits) & CountMask, state & CountMask),
            1 => (state & CountMask, 0),
            _ => (0, 0),
        };
    }

    /// <summary>Ticks until the weighted estimate leaves room for one more request.</summary>
    internal static long SlidingRetryAfter(long limit, long window, long previous, long current, long intoWindow)
    {
        // Within this window the estimate falls as the previous window's weight does: previous*(W-t)/W + current <= limit-1.
        var room = limit - 1 - current;
        if (room >= 0 && previous > 0)
        {
            var t = window - (room * window / previous);
            return Math.Max(1, t - intoWindow);
        }

        // Otherwise wait for the next window, where this window's count becomes the weighted one.
        var until = window - intoWindow;
        return current <= limit - 1 ? until : until + Math.Max(0, window - ((limit - 1) * window / current));
    }

    private RateLimitDecision? Concurrency(Cell cell)
    {
        while (true)
        {
            var inFlight = Volatile.Read(ref cell.State);
            if (inFlight == Dead)
            {
                return null;
            }

            if (inFlight >= _limit)
            {
                return new RateLimitDecision(false, 0, TimeSpan.Zero, TimeSpan.FromSeconds(1));
            }

            if (Interlocked.CompareExchange(ref cell.State, inFlight + 1, inFlight) == inFlight)
            {
                return new RateLimitDecision(true, _limit - inFlight - 1, TimeSpan.Zero, TimeSpan.Zero) { Lease = cell };
            }
        }
    }

    /// <summary>Evicts every cell whose quota is whole again: it holds nothing a fresh cell would not.</summary>
    internal void Sweep()
    {
        var now = Now;
        foreach (var (partition, cell) in _cells)
        {
            var state = Volatile.Read(ref cell.State);
            if (IsIdle(state, now) && Interlocked.CompareExchange(ref cell.State, Dead, state) == state)
            {
                Remove(partition, cell);
            }
        }
    }

    private bool IsIdle(long state, long now) => state != Dead && _algorithm switch
    {
        RateLimitAlgorithm.Gcra => state <= now,
        RateLimitAlgorithm.TokenBucket => (state & 0xFFFFFFFF) - (Math.Min((long)unchecked((uint)(now / _window) - (uint)(state >>> 32)), _burst) * _limit) <= 0,
        RateLimitAlgorithm.FixedWindow => (uint)(state >>> 32) != (uint)(now / _window),
        RateLimitAlgorithm.SlidingWindow => Counts(state, now / _window) == (0, 0),
        _ => state == 0,
    };

    public override void Dispose() => _sweeper?.Dispose();
}
