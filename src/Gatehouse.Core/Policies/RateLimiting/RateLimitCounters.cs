namespace Gatehouse.Policies.RateLimiting;

/// <summary>
/// The counters of one policy: in memory on this node (<see cref="MemoryRateLimiter"/>), or in Redis shared by all
/// nodes (<see cref="RedisRateLimiter"/>). A runtime object (<see cref="Configuration.RuntimeObjects"/>, kind
/// <c>rate-limit-counters</c>): kept across a reload that leaves the policy's counting settings alone. Not named
/// RateLimiter, which would shadow System.Threading.RateLimiting's.
/// </summary>
internal abstract class RateLimitCounters : IDisposable
{
    /// <summary>Takes one request's worth of the quota of <paramref name="partition"/>, if there is any.</summary>
    public abstract ValueTask<RateLimitDecision> AcquireAsync(object partition);

    public abstract void Dispose();
}
