namespace Gatehouse.Policies.RateLimiting;

/// <summary>
/// One limiter's answer for one request. <see cref="Reset"/> is how long until the quota is whole again,
/// <see cref="RetryAfter"/> how long until a refused request would be admitted. A concurrency limit hands out a
/// <see cref="Lease"/> that the request gives back when it ends.
/// </summary>
internal readonly record struct RateLimitDecision(bool Allowed, long Remaining, TimeSpan Reset, TimeSpan RetryAfter)
{
    /// <summary>Redis did not answer in time or at all; <see cref="Allowed"/> holds the policy's onStoreFailure choice.</summary>
    public bool StoreFailed { get; init; }

    public MemoryRateLimiter.Cell? Lease { get; init; }

    public static RateLimitDecision Failed(bool allow) => new(allow, 0, TimeSpan.Zero, TimeSpan.FromSeconds(1)) { StoreFailed = true };
}
