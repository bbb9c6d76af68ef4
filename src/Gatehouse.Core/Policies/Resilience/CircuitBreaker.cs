using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Resilience;

/// <summary>The state of a service's circuit breaker, for the admin API and metrics.</summary>
public enum CircuitState
{
    /// <summary>Requests flow; failures are counted.</summary>
    Closed,

    /// <summary>Requests fail fast with 503, no backend call.</summary>
    Open,

    /// <summary>One probe request is in flight; the others still fail fast.</summary>
    HalfOpen,
}

/// <summary>
/// A failure-ratio circuit breaker per service (the Polly v8 / Resilience4j model: ratio over a sliding window with a
/// minimum throughput, open for a fixed time, one half-open probe). Hand-written rather than Polly's
/// <c>CircuitBreakerStrategy</c>: Polly's state controller takes a lock on every execution (before and after each
/// call) and runs each call through a pipeline callback, while this check runs on every proxied request; here the
/// closed-state check is one volatile read and recording an outcome is two interlocked increments.
/// </summary>
internal sealed class CircuitBreaker
{
    private readonly TimeProvider _time;
    private readonly RollingCounts _calls;
    private readonly long _breakTicks;
    private int _state;

    // While open: when the next probe may go. While half-open: when a lost probe may be replaced.
    private long _probeAt;

    // Transitions so far, for gatehouse.circuit_breaker.transitions (an observable counter reads them).
    private long _opened;
    private long _halfOpened;
    private long _closed;

    public CircuitBreaker(string service, CircuitBreakerOptions options, TimeProvider time)
    {
        Service = service;
        Options = options;
        _time = time;
        _calls = new RollingCounts(options.Window, time);
        _breakTicks = (long)(options.BreakFor.TotalSeconds * time.TimestampFrequency);
    }

    public string Service { get; }

    public CircuitBreakerOptions Options { get; }

    public CircuitState State => (CircuitState)Volatile.Read(ref _state);

    public (long Opened, long HalfOpened, long Closed) Transitions => (Volatile.Read(ref _opened), Volatile.Read(ref _halfOpened), Volatile.Read(ref _closed));

    /// <summary>
    /// Whether a request may go to the backend. <paramref name="probe"/> is set for the one request that tests a
    /// half-open circuit; it must report with <see cref="OnResult"/> or <see cref="OnAbandoned"/>.
    /// </summary>
    public bool TryEnter(out bool probe, out TimeSpan retryAfter, ILogger logger)
    {
        probe = false;
        retryAfter = default;
        if (Volatile.Read(ref _state) == (int)CircuitState.Closed)
        {
            return true;
        }

        var now = _time.GetTimestamp();
        var at = Volatile.Read(ref _probeAt);
        if (now >= at && Interlocked.CompareExchange(ref _probeAt, now + _breakTicks, at) == at)
        {
            // Won the race for the probe slot: exactly one request tests the backend.
            Volatile.Write(ref _state, (int)CircuitState.HalfOpen);
            Interlocked.Increment(ref _halfOpened);
            ResilienceLog.BreakerHalfOpen(logger, Service);
            probe = true;
            return true;
        }

        retryAfter = TimeSpan.FromSeconds(Math.Max(0, at - now) / (double)_time.TimestampFrequency);
        return false;
    }

    /// <summary>Records the outcome of a backend call made after <see cref="TryEnter"/> said yes.</summary>
    public void OnResult(bool probe, bool failure, ILogger logger)
    {
        if (probe)
        {
            if (failure)
            {
                Open(logger, "the half-open probe failed");
            }
            else
            {
                _calls.Reset();
                Volatile.Write(ref _state, (int)CircuitState.Closed);
                Interlocked.Increment(ref _closed);
                ResilienceLog.BreakerClosed(logger, Service);
            }

            return;
        }

        // Calls that started before the circuit opened report late; they must not re-open or close it.
        if (Volatile.Read(ref _state) != (int)CircuitState.Closed)
        {
            return;
        }

        _calls.Add(second: failure);
        if (!failure)
        {
            return;
        }

        var (calls, failures) = _calls.Sum();
        if (calls >= Options.MinimumRequests && failures >= Options.FailureRatio * calls)
        {
            Open(logger, "too many failures");
        }
    }

    /// <summary>The probe ended without an outcome (the client went away): let the next request probe at once.</summary>
    public void OnAbandoned(bool probe)
    {
        if (probe)
        {
            Volatile.Write(ref _probeAt, _time.GetTimestamp());
            Volatile.Write(ref _state, (int)CircuitState.Open);
        }
    }

    private void Open(ILogger logger, string reason)
    {
        // The probe time is written before the state, so a reader that sees Open also sees when it ends.
        Volatile.Write(ref _probeAt, _time.GetTimestamp() + _breakTicks);
        if (Interlocked.Exchange(ref _state, (int)CircuitState.Open) != (int)CircuitState.Open)
        {
            Interlocked.Increment(ref _opened);
            ResilienceLog.BreakerOpened(logger, Service, reason, Options.BreakFor.TotalSeconds);
        }
    }
}
