namespace Gatehouse.Policies.Resilience;

/// <summary>Requests in flight to a service; shared by the bulkheads of successive snapshots so a reload does not forget them.</summary>
internal sealed class InFlightCount
{
    public int Value;
}

/// <summary><c>maxConcurrentRequests</c>: one interlocked increment per request, no queue (a queue only adds latency to an overloaded service).</summary>
internal sealed class Bulkhead(int limit, InFlightCount inFlight)
{
    public int Limit { get; } = limit;

    public InFlightCount InFlight { get; } = inFlight;

    public bool TryEnter()
    {
        if (Interlocked.Increment(ref InFlight.Value) <= Limit)
        {
            return true;
        }

        Interlocked.Decrement(ref InFlight.Value);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref InFlight.Value);
}
