using Gatehouse.Core.Tests.Common;
using Gatehouse.Policies.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Core.Tests.Policies.Resilience;

public class CircuitBreakerTests
{
    private static readonly ILogger Log = NullLogger.Instance;

    /// <summary>Keeps the event ids of what is logged.</summary>
    private sealed class EventIds : ILogger
    {
        public List<int> Ids { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Ids.Add(eventId.Id);
    }

    [Fact]
    public void Transitions_AreLoggedWithStableEventIds()
    {
        var (breaker, time) = Create(minimum: 1, breakSeconds: 30);
        var log = new EventIds();
        Assert.True(breaker.TryEnter(out var first, out _, log));
        breaker.OnResult(first, failure: true, log);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(breaker.TryEnter(out var probe, out _, log));

        breaker.OnResult(probe, failure: false, log);

        Assert.Equal([5001, 5002, 5003], log.Ids);
    }

    private static (CircuitBreaker Breaker, ManualTime Time) Create(double ratio = 0.5, int minimum = 4, int windowSeconds = 10, int breakSeconds = 30)
    {
        var time = new ManualTime();
        var options = new CircuitBreakerOptions
        {
            FailureRatio = ratio,
            MinimumRequests = minimum,
            Window = TimeSpan.FromSeconds(windowSeconds),
            BreakFor = TimeSpan.FromSeconds(breakSeconds),
        };
        return (new CircuitBreaker("orders", options, time), time);
    }

    private static void Call(CircuitBreaker breaker, bool fail)
    {
        Assert.True(breaker.TryEnter(out var probe, out _, Log));
        breaker.OnResult(probe, fail, Log);
    }

    [Fact]
    public void Failures_BelowMinimumRequests_StayClosed()
    {
        var (breaker, _) = Create(minimum: 4);

        for (var i = 0; i < 3; i++)
        {
            Call(breaker, fail: true);
        }

        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void FailureRatio_ReachedAtMinimum_Opens_AndFailsFastWithRetryAfter()
    {
        var (breaker, time) = Create(ratio: 0.5, minimum: 4, breakSeconds: 30);
        Call(breaker, fail: false);
        Call(breaker, fail: false);
        Call(breaker, fail: true);
        Assert.Equal(CircuitState.Closed, breaker.State);

        Call(breaker, fail: true);

        Assert.Equal(CircuitState.Open, breaker.State);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(breaker.TryEnter(out var probe, out var retryAfter, Log));
        Assert.False(probe);
        Assert.Equal(TimeSpan.FromSeconds(20), retryAfter);
    }

    [Fact]
    public void FailureRatio_NotReached_StaysClosed()
    {
        var (breaker, _) = Create(ratio: 0.5, minimum: 4);

        for (var i = 0; i < 30; i++)
        {
            Call(breaker, fail: i % 3 == 2);
        }

        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void OldFailures_LeaveTheWindow_AndNoLongerCount()
    {
        var (breaker, time) = Create(ratio: 0.5, minimum: 4, windowSeconds: 10);
        Call(breaker, fail: true);
        Call(breaker, fail: true);
        Call(breaker, fail: true);

        time.Advance(TimeSpan.FromSeconds(11));
        Call(breaker, fail: false);
        Call(breaker, fail: false);
        Call(breaker, fail: false);
        Call(breaker, fail: true);

        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void AfterBreakFor_OneProbeOnly_SuccessCloses()
    {
        var (breaker, time) = Create(minimum: 1, breakSeconds: 30);
        Call(breaker, fail: true);
        time.Advance(TimeSpan.FromSeconds(30));

        Assert.True(breaker.TryEnter(out var probe, out _, Log));
        Assert.True(probe);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.False(breaker.TryEnter(out var second, out _, Log));
        Assert.False(second);

        breaker.OnResult(probe, failure: false, Log);

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryEnter(out var after, out _, Log));
        Assert.False(after);
    }

    [Fact]
    public void ProbeFails_OpensForAnotherBreakFor()
    {
        var (breaker, time) = Create(minimum: 1, breakSeconds: 30);
        Call(breaker, fail: true);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(breaker.TryEnter(out var probe, out _, Log));

        breaker.OnResult(probe, failure: true, Log);

        Assert.Equal(CircuitState.Open, breaker.State);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(breaker.TryEnter(out _, out _, Log));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(breaker.TryEnter(out var next, out _, Log));
        Assert.True(next);
    }

    [Fact]
    public void ProbeAbandoned_NextRequestProbesAtOnce()
    {
        var (breaker, time) = Create(minimum: 1, breakSeconds: 30);
        Call(breaker, fail: true);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(breaker.TryEnter(out var probe, out _, Log));

        breaker.OnAbandoned(probe);

        Assert.True(breaker.TryEnter(out var next, out _, Log));
        Assert.True(next);
    }

    [Fact]
    public void ProbeLost_AnotherProbeAfterBreakFor()
    {
        var (breaker, time) = Create(minimum: 1, breakSeconds: 30);
        Call(breaker, fail: true);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(breaker.TryEnter(out _, out _, Log));

        time.Advance(TimeSpan.FromSeconds(30));

        Assert.True(breaker.TryEnter(out var replacement, out _, Log));
        Assert.True(replacement);
    }

    [Fact]
    public void LateResults_WhileOpen_DoNotCloseIt()
    {
        var (breaker, _) = Create(minimum: 1);
        Assert.True(breaker.TryEnter(out var slow, out _, Log));
        Call(breaker, fail: true);

        breaker.OnResult(slow, failure: false, Log);

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task ConcurrentCallers_ExactlyOneProbe()
    {
        var (breaker, time) = Create(minimum: 1, breakSeconds: 30);
        Call(breaker, fail: true);
        time.Advance(TimeSpan.FromSeconds(31));
        var probes = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                if (breaker.TryEnter(out var probe, out _, Log) && probe)
                {
                    Interlocked.Increment(ref probes);
                }
            }
        })));

        Assert.Equal(1, probes);
    }
}
