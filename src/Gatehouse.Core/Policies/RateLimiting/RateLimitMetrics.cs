using System.Diagnostics.Metrics;

namespace Gatehouse.Policies.RateLimiting;

/// <summary>
/// Rate limiting's instruments, from <see cref="IMeterFactory"/> (the observability issue exports them). Labels stay
/// bounded: policy names come from the config, outcomes and reasons are fixed sets; keys never become labels.
/// </summary>
internal sealed class RateLimitMetrics
{
    public const string MeterName = "Gatehouse.RateLimiting";

    private readonly Counter<long> _decisions;
    private readonly Counter<long> _storeFailures;

    public RateLimitMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _decisions = meter.CreateCounter<long>(
            "gatehouse.rate_limit.decisions",
            unit: "{request}",
            description: "Rate-limit decisions by policy and outcome: allowed, rejected, or shadow_rejected (would have been refused in shadow mode).");
        _storeFailures = meter.CreateCounter<long>(
            "gatehouse.rate_limit.store_failures",
            unit: "{decision}",
            description: "Decisions that Redis could not make in time (timeout), at all (unavailable) or without an error (error); onStoreFailure decided them.");
    }

    public void Decided(string policy, string outcome) =>
        _decisions.Add(1, new KeyValuePair<string, object?>("policy", policy), new KeyValuePair<string, object?>("outcome", outcome));

    public void StoreFailed(string policy, string reason) =>
        _storeFailures.Add(1, new KeyValuePair<string, object?>("policy", policy), new KeyValuePair<string, object?>("reason", reason));
}
