namespace Gatehouse.Policies.Resilience;

/// <summary>
/// Caps retries at a share of a service's traffic, so that a failing backend gets at most that much extra load
/// (Envoy's retry budgets, Finagle's RetryBudget). Envoy counts requests in flight; this counts requests and retries
/// over the last 10 seconds instead, because a service with sequential callers has one request in flight at a time
/// and a share of that would never allow a retry. <c>minRetriesPerSecond</c> is the floor that lets a quiet
/// service retry at all (Envoy's <c>min_retry_concurrency</c>, Finagle's <c>minRetriesPerSec</c>).
/// </summary>
internal sealed class RetryBudget
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly RollingCounts _counts;
    private readonly double _share;
    private readonly double _floor;

    public RetryBudget(RetryOptions options, TimeProvider time)
    {
        Options = options;
        _counts = new RollingCounts(Window, time);
        _share = options.Budget;
        _floor = options.MinRetriesPerSecond * Window.TotalSeconds;
    }

    public RetryOptions Options { get; }

    /// <summary>Counts a request (its first try) towards the share.</summary>
    public void OnRequest() => _counts.AddFirst();

    /// <summary>
    /// Takes one retry from the budget, or says there is none left. Check-then-add: requests racing on other cores
    /// may overshoot by their number, which is bounded and small next to the share.
    /// </summary>
    public bool TryRetry()
    {
        var (requests, retries) = _counts.Sum();
        if (retries + 1 > (requests * _share) + _floor)
        {
            return false;
        }

        _counts.AddSecond();
        return true;
    }
}
