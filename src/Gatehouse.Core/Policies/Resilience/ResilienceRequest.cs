using Microsoft.Extensions.ObjectPool;
using Yarp.ReverseProxy.Model;

namespace Gatehouse.Policies.Resilience;

/// <summary>
/// The typed per-request state of the resilience stage, shared with its response transform through the request's
/// features. Pooled with its cancellation source (and that source's timer), so a request with a response timeout or
/// retries allocates nothing here once the pool is warm.
/// </summary>
// Pooled for the life of the process: the source is reused, never handed out, and disposed only when it cannot be reset.
#pragma warning disable CA1001
internal sealed class ResilienceRequest
#pragma warning restore CA1001
{
    public static readonly ObjectPool<ResilienceRequest> Pool = new DefaultObjectPool<ResilienceRequest>(new PoolPolicy(), 1024);

    private CancellationTokenSource _timeout = new();
    private CancellationTokenRegistration _clientAborted;
    private int _timerArmed;

    public RouteResilience Policy { get; private set; } = null!;

    /// <summary>Whether the attempt now in flight may still be retried (qualifying request, attempts and time left).</summary>
    public bool RetryAllowed { get; set; }

    /// <summary>The 5xx status the response transform held back from the client to retry, or 0.</summary>
    public int HeldBackStatus { get; set; }

    /// <summary>The transform let a retryable 5xx through because the retry budget was spent.</summary>
    public bool BudgetSpent { get; set; }

    /// <summary>Targets already tried by this request, so a retry prefers another one.</summary>
    public List<DestinationState> Tried { get; } = new(4);

    /// <summary>Cancelled when the response timeout expires or the client goes away; the forwarder sees it as RequestAborted.</summary>
    public CancellationToken Token => _timeout.Token;

    public void Start(RouteResilience policy, CancellationToken clientAborted)
    {
        Policy = policy;
        if (policy.ResponseTimeout is { } timeout)
        {
            _clientAborted = clientAborted.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _timeout);
            Volatile.Write(ref _timerArmed, 1);
            _timeout.CancelAfter(timeout);
        }
    }

    /// <summary>Response headers arrived: from here on the idle timeout governs, not the response timeout.</summary>
    public void OnResponseHeaders()
    {
        if (Interlocked.Exchange(ref _timerArmed, 0) == 1)
        {
            _timeout.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>True when the response timeout (not the client) cancelled the request.</summary>
    public bool TimedOut(CancellationToken clientAborted) => _timeout.IsCancellationRequested && !clientAborted.IsCancellationRequested;

    private bool Reset()
    {
        _clientAborted.Dispose();
        _clientAborted = default;
        _timerArmed = 0;
        Policy = null!;
        RetryAllowed = false;
        HeldBackStatus = 0;
        BudgetSpent = false;
        Tried.Clear();
        if (!_timeout.TryReset())
        {
            // A cancelled source cannot be reused; only requests that timed out or were aborted pay for a new one.
            _timeout.Dispose();
            _timeout = new CancellationTokenSource();
        }

        return true;
    }

    private sealed class PoolPolicy : PooledObjectPolicy<ResilienceRequest>
    {
        public override ResilienceRequest Create() => new();

        public override bool Return(ResilienceRequest obj) => obj.Reset();
    }
}
