using System.Collections.Concurrent;
using System.Globalization;
using Gatehouse.Redis;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gatehouse.Policies.RateLimiting;

/// <summary>
/// A policy's counters in Redis, shared by every node: exactly one script call per decision, atomic on the server
/// (no read-then-write, no lock), timed by the server's own clock so nodes with skewed clocks agree, every key with
/// a TTL so Redis forgets idle callers. The algorithms are those of <see cref="MemoryRateLimiter"/>.
/// A call slower than <c>redis.timeout</c>, or Redis being unreachable, gives the policy's <c>onStoreFailure</c>
/// decision at once: a request never waits on Redis longer than the timeout, and while the connection is down it does
/// not wait at all.
/// With <c>store: hybrid</c> (GCRA only) a node reserves up to <c>batch</c> requests of the shared quota per call
/// and admits them locally for a short while (batch x emission interval, between 250ms and 2s). Bounds, per key:
/// admissions never exceed what the shared quota handed out, but a reserved request may be used up to that lifetime
/// after its slot, so at one instant at most nodes x batch requests beyond the burst can pass; requests reserved and
/// not used before they expire are lost, at most nodes x (batch - 1) per lifetime. Measured in the functional tests.
/// </summary>
internal sealed partial class RedisRateLimiter : RateLimitCounters
{
    // Times in microseconds (since the Unix epoch: about 1.8e15, exact in Lua's doubles; written with %d because
    // Lua's default number format keeps only 14 digits). Each script returns { allowed, remaining, reset, retryAfter } (sliding: raw counts, see below).
    private const string Now = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        """;

    private static readonly string GcraScript = Now + """
        local interval = tonumber(ARGV[1])
        local capacity = interval * tonumber(ARGV[2])
        local tat = tonumber(redis.call('GET', KEYS[1])) or now
        if tat < now then tat = now end
        local ahead = tat + interval - now
        if ahead > capacity then
          return { 0, 0, tat - now, ahead - capacity }
        end
        redis.call('SET', KEYS[1], string.format('%d', tat + interval), 'PX', math.ceil(ahead / 1000))
        return { 1, math.floor((capacity - ahead) / interval), ahead, 0 }
        """;

    // Hybrid: reserves up to ARGV[3] requests' worth of the same GCRA quota in one call; returns { reserved, ... }.
    private static readonly string GcraReserveScript = Now + """
        local interval = tonumber(ARGV[1])
        local capacity = interval * tonumber(ARGV[2])
        local batch = tonumber(ARGV[3])
        local tat = tonumber(redis.call('GET', KEYS[1])) or now
        if tat < now then tat = now end
        local room = math.floor((capacity - (tat - now)) / interval)
        if room < 1 then
          return { 0, 0, tat - now, tat + interval - now - capacity }
        end
        local reserved = math.min(batch, room)
        local next = tat + reserved * interval
        redis.call('SET', KEYS[1], string.format('%d', next), 'PX', math.ceil((next - now) / 1000))
        return { reserved, room - reserved, next - now, 0 }
        """;

    private static readonly string TokenBucketScript = Now + """
        local limit, burst, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local period = math.floor(now / window)
        local s = redis.call('HMGET', KEYS[1], 'p', 'u')
        local used = 0
        if s[1] then used = math.max(0, tonumber(s[2]) - (period - tonumber(s[1])) * limit) end
        local nextPeriod = (period + 1) * window
        if used + 1 > burst then
          return { 0, 0, nextPeriod - now + math.floor((used - 1) / limit) * window, nextPeriod - now }
        end
        used = used + 1
        local reset = nextPeriod - now + math.floor((used - 1) / limit) * window
        redis.call('HSET', KEYS[1], 'p', period, 'u', used)
        redis.call('PEXPIRE', KEYS[1], math.ceil(reset / 1000))
        return { 1, burst - used, reset, 0 }
        """;

    private static readonly string FixedWindowScript = Now + """
        local limit, window = tonumber(ARGV[1]), tonumber(ARGV[3])
        local w = math.floor(now / window)
        local s = redis.call('HMGET', KEYS[1], 'w', 'c')
        local count = 0
        if s[1] and tonumber(s[1]) == w then count = tonumber(s[2]) end
        local reset = (w + 1) * window - now
        if count >= limit then
          return { 0, 0, reset, reset }
        end
        redis.call('HSET', KEYS[1], 'w', w, 'c', count + 1)
        redis.call('PEXPIRE', KEYS[1], math.ceil(reset / 1000))
        return { 1, limit - count - 1, reset, 0 }
        """;

    // Returns { allowed, previous, current, intoWindow }: the C# side turns them into remaining and retry-after
    // with the same code as the memory store.
    private static readonly string SlidingWindowScript = Now + """
        local limit, window = tonumber(ARGV[1]), tonumber(ARGV[3])
        local w = math.floor(now / window)
        local s = redis.call('HMGET', KEYS[1], 'w', 'p', 'c')
        local prev, cur = 0, 0
        if s[1] then
          local sw = tonumber(s[1])
          if sw == w then prev, cur = tonumber(s[2]), tonumber(s[3])
          elseif sw == w - 1 then prev = tonumber(s[3]) end
        end
        local into = now - w * window
        local estimate = math.floor(prev * (window - into) / window) + cur
        if estimate + 1 > limit then
          return { 0, prev, cur, into }
        end
        redis.call('HSET', KEYS[1], 'w', w, 'p', prev, 'c', cur + 1)
        redis.call('PEXPIRE', KEYS[1], math.ceil((2 * window - into) / 1000))
        return { 1, prev, cur, into }
        """;

    private readonly RateLimitPolicyOptions _options;
    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _database;
    private readonly string _script;
    private readonly RedisValue[] _arguments;
    private readonly string _keyPrefix;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly RateLimitMetrics _metrics;
    private readonly ILogger _logger;
    private readonly RateLimitDecision _failure;
    private readonly ConcurrentDictionary<object, Reservation>? _reservations;
    private readonly Func<object, Reservation> _newReservation = static _ => new Reservation();
    private readonly long _reservationLifetime;
    private readonly ITimer? _sweeper;
    private long _lastFailureLog = long.MinValue;
    private int _failuresSinceLog;

    public RedisRateLimiter(RateLimitPolicyOptions options, RedisOptions redis, ConnectionMultiplexer multiplexer, TimeProvider time, RateLimitMetrics metrics, ILogger logger)
    {
        _options = options;
        _redis = multiplexer;
        _database = multiplexer.GetDatabase();
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _timeout = redis.Timeout;
        // The algorithm is part of the key: its state has another shape (a string for GCRA, hashes otherwise), so a
        // reload that changes it must not meet the old keys (WRONGTYPE) but start afresh beside them.
        _keyPrefix = $"{redis.KeyPrefix}rl:{options.Name}:{AlgorithmTag(options.Algorithm)}:";
        _failure = RateLimitDecision.Failed(allow: !options.DenyOnStoreFailure);
        var windowMicros = options.Window.Ticks / 10;
        _script = options.Algorithm switch
        {
            RateLimitAlgorithm.Gcra when options.Store == RateLimitStoreKind.Hybrid => GcraReserveScript,
            RateLimitAlgorithm.Gcra => GcraScript,
            RateLimitAlgorithm.TokenBucket => TokenBucketScript,
            RateLimitAlgorithm.FixedWindow => FixedWindowScript,
            RateLimitAlgorithm.SlidingWindow => SlidingWindowScript,
            _ => throw new InvalidOperationException("concurrency limits are kept in memory"),
        };
        _arguments = options.Algorithm == RateLimitAlgorithm.Gcra
            ? [Math.Max(1, windowMicros / options.Limit), options.EffectiveBurst, options.Batch]
            : [options.Limit, options.EffectiveBurst, windowMicros];
        if (options.Store == RateLimitStoreKind.Hybrid)
        {
            _reservations = new();

            // A batch is good for the time it stands for at the sustained rate, within bounds: long enough to spare
            // round trips at high rates, short enough that reserved but unused requests do not linger.
            var lifetime = Math.Clamp(options.Window.Ticks / options.Limit * options.Batch, TimeSpan.TicksPerMillisecond * 250, TimeSpan.TicksPerSecond * 2);
            _reservationLifetime = lifetime * time.TimestampFrequency / TimeSpan.TicksPerSecond;
            _sweeper = time.CreateTimer(static state => ((RedisRateLimiter)state!).SweepReservations(), this, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
        }
    }

    private static string AlgorithmTag(RateLimitAlgorithm algorithm) => algorithm switch
    {
        RateLimitAlgorithm.Gcra => "gcra",
        RateLimitAlgorithm.TokenBucket => "tb",
        RateLimitAlgorithm.FixedWindow => "fw",
        _ => "sw",
    };

    /// <summary>
    /// Loads the script before the first request needs it, so that request costs one EVALSHA like every other
    /// rather than a compile on the server inside its timeout. Best effort: an unreachable Redis loads it later.
    /// </summary>
    public async Task WarmAsync()
    {
        foreach (var server in _redis.GetServers())
        {
            try
            {
                await server.ScriptLoadAsync(_script).WaitAsync(TimeSpan.FromSeconds(1), _time);

                // One real call on a key of its own runs the whole path once, so its first-use costs are paid here.
                await _database.ScriptEvaluateAsync(_script, [(RedisKey)(_keyPrefix + "\u0000warm-up")], _arguments).WaitAsync(TimeSpan.FromSeconds(1), _time);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // The first decision will send the script itself.
            }
        }
    }

    /// <summary>Requests this node reserved from Redis and may admit without asking again, until they expire.</summary>
    private sealed class Reservation
    {
        public long Remaining;
        public long ExpiresAt;
        public RateLimitDecision Last;

        /// <summary>
        /// Redis said no until then. Safe to answer locally: the shared quota only refills with time, so no other
        /// node can make room sooner; a caller hammering a spent quota then costs no round trips.
        /// </summary>
        public long RefusedUntil;
        public RateLimitDecision Refusal;
    }

    public override ValueTask<RateLimitDecision> AcquireAsync(object partition)
    {
        if (_reservations is not null && TakeReserved(partition) is { } local)
        {
            return new(local);
        }

        // Disconnected: fail at once rather than throw (an exception per request costs more than the request).
        if (!_redis.IsConnected)
        {
            return new(Fail("unavailable", null));
        }

        return new(EvaluateAsync(partition));
    }

    private RateLimitDecision? TakeReserved(object partition)
    {
        if (!_reservations!.TryGetValue(partition, out var reservation))
        {
            return null;
        }

        var now = _time.GetTimestamp();
        var refusedUntil = Volatile.Read(ref reservation.RefusedUntil);
        if (now < refusedUntil && Volatile.Read(ref reservation.Remaining) <= 0)
        {
            var wait = _time.GetElapsedTime(now, refusedUntil);
            return reservation.Refusal with { RetryAfter = wait, Reset = reservation.Refusal.Reset - (reservation.Refusal.RetryAfter - wait) };
        }

        if (now >= Volatile.Read(ref reservation.ExpiresAt))
        {
            return null;
        }

        var remaining = Volatile.Read(ref reservation.Remaining);
        while (remaining > 0)
        {
            var seen = Interlocked.CompareExchange(ref reservation.Remaining, remaining - 1, remaining);
            if (seen == remaining)
            {
                return reservation.Last with { Remaining = reservation.Last.Remaining + remaining - 1 };
            }

            remaining = seen;
        }

        return null;
    }

    private void Reserve(object partition, long reserved, RateLimitDecision decision)
    {
        // This request takes one; the rest wait here, added to what concurrent reservations left (those were taken
        // from the shared quota too) unless that has expired. Count first, expiry second: a reader that sees the
        // old expiry with the new count simply asks Redis again.
        var reservation = _reservations!.GetOrAdd(partition, _newReservation);
        var now = _time.GetTimestamp();
        reservation.Last = decision;
        if (now < Volatile.Read(ref reservation.ExpiresAt))
        {
            Interlocked.Add(ref reservation.Remaining, reserved - 1);
        }
        else
        {
            Interlocked.Exchange(ref reservation.Remaining, reserved - 1);
        }

        Volatile.Write(ref reservation.ExpiresAt, now + _reservationLifetime);
    }

    private void SweepReservations()
    {
        var now = _time.GetTimestamp();
        foreach (var (partition, reservation) in _reservations!)
        {
            if (now >= Volatile.Read(ref reservation.ExpiresAt) && now >= Volatile.Read(ref reservation.RefusedUntil))
            {
                _reservations.TryRemove(new KeyValuePair<object, Reservation>(partition, reservation));
            }
        }
    }

    private async Task<RateLimitDecision> EvaluateAsync(object partition)
    {
        RedisKey key = _keyPrefix + RateLimitKey.ToText(partition);
        try
        {
            var result = await _database.ScriptEvaluateAsync(_script, [key], _arguments).WaitAsync(_timeout, _time);
            var values = (long[])result!;
            if (_reservations is not null && values[0] > 0)
            {
                var admitted = new RateLimitDecision(true, values[1], TimeSpan.FromTicks(values[2] * 10), TimeSpan.Zero);
                Reserve(partition, values[0], admitted);
                return admitted with { Remaining = values[1] + values[0] - 1 };
            }

            if (_reservations is not null)
            {
                var refusal = new RateLimitDecision(false, 0, TimeSpan.FromTicks(values[2] * 10), TimeSpan.FromTicks(values[3] * 10));
                var reservation = _reservations.GetOrAdd(partition, _newReservation);
                reservation.Refusal = refusal;
                Volatile.Write(ref reservation.RefusedUntil, _time.GetTimestamp() + (refusal.RetryAfter.Ticks * _time.TimestampFrequency / TimeSpan.TicksPerSecond));
                return refusal;
            }

            if (_options.Algorithm == RateLimitAlgorithm.SlidingWindow)
            {
                return SlidingWindowDecision(values[0] == 1, values[1], values[2], values[3] * 10);
            }

            return new RateLimitDecision(values[0] == 1, values[1], TimeSpan.FromTicks(values[2] * 10), TimeSpan.FromTicks(values[3] * 10));
        }
        catch (TimeoutException)
        {
            return Fail("timeout", null);
        }
        catch (RedisException e)
        {
            return Fail("error", e);
        }
    }

    private RateLimitDecision SlidingWindowDecision(bool allowed, long previous, long current, long intoWindow)
    {
        var window = _options.Window.Ticks;
        var estimate = (previous * (window - intoWindow) / window) + current;
        var windowEnd = window - intoWindow;
        return allowed
            ? new RateLimitDecision(true, _options.Limit - estimate - 1, TimeSpan.FromTicks(windowEnd + window), TimeSpan.Zero)
            : new RateLimitDecision(false, 0, TimeSpan.FromTicks(windowEnd + (current > 0 ? window : 0)),
                TimeSpan.FromTicks(MemoryRateLimiter.SlidingRetryAfter(_options.Limit, window, previous, current, intoWindow)));
    }

    public override void Dispose()
    {
        // The multiplexer is shared and owned by RedisConnections.
        _sweeper?.Dispose();
    }

    private RateLimitDecision Fail(string reason, Exception? error)
    {
        _metrics.StoreFailed(_options.Name, reason);
        Interlocked.Increment(ref _failuresSinceLog);

        // Once per interval, not once per request: an outage under load would otherwise flood the log.
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastFailureLog);
        if ((last == long.MinValue || _time.GetElapsedTime(last, now) > TimeSpan.FromSeconds(10))
            && Interlocked.CompareExchange(ref _lastFailureLog, now, last) == last)
        {
            LogStoreFailed(_logger, _options.Name, reason, Interlocked.Exchange(ref _failuresSinceLog, 0), _options.DenyOnStoreFailure ? "deny" : "allow", error);
        }

        return _failure;
    }

    [LoggerMessage(EventId = Observability.LogEvents.RateLimitStoreFailed, Level = LogLevel.Warning, Message = "Rate limit {Policy}: Redis {Reason}; {Failures} decision(s) since the last report fell back to onStoreFailure: {Decision}")]
    private static partial void LogStoreFailed(ILogger logger, string policy, string reason, int failures, string decision, Exception? error);
}

/// <summary>Formats seconds for the header fields: whole seconds, rounded up.</summary>
internal static class Seconds
{
    public static long Ceiling(TimeSpan time) => time <= TimeSpan.Zero ? 0 : (time.Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;

    public static string Text(TimeSpan time) => Ceiling(time).ToString(CultureInfo.InvariantCulture);
}
