using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Gatehouse.Policies.RateLimiting;

/// <summary>
/// Rate limiting's instruments, from <see cref="IMeterFactory"/> (the observability issue exports them). Labels stay
/// bounded: policy names come from the config, outcomes and reasons are fixed sets; keys never become labels.
/// </summary>
internal sealed class RateLimitMetrics
{
    public const string MeterName = "Gatehouse.RateLimiting";

    private readonly ConcurrentDictionary<string, DecisionCounts> _decisions = new(StringComparer.Ordinal);
    private readonly Counter<long> _storeFailures;

    public RateLimitMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        // Counted by the policies themselves (one interlocked increment per decision) and read at each collection:
        // a Counter<T>.Add would look up the series by its tags on every request, on the rate-limited hot path.
        meter.CreateObservableCounter(
            "gatehouse.rate_limit.decisions",
            ObserveDecisions,
            unit: "{request}",
            description: "Rate-limit decisions by policy and outcome: allowed, rejected, or shadow_rejected (would have been refused in shadow mode).");
        meter.CreateObservableCounter(
            "gatehouse.rate_limit.evicted_keys",
            ObserveEvictions,
            unit: "{key}",
            description: "Keys a memory-store policy forgot, least recently used first, because it held maxKeys of them (their callers started with a whole quota again).");
        _storeFailures = meter.CreateCounter<long>(
            "gatehouse.rate_limit.store_failures",
            unit: "{decision}",
            description: "Decisions that Redis could not make in time (timeout), at all (unavailable) or without an error (error); onStoreFailure decided them.");
    }

    /// <summary>The counts of the policy with this name; the same object across reloads, so the counter never goes back.</summary>
    public DecisionCounts DecisionsOf(string policy) => _decisions.GetOrAdd(policy, static _ => new DecisionCounts());

    public void StoreFailed(string policy, string reason) =>
        _storeFailures.Add(1, new KeyValuePair<string, object?>("policy", policy), new KeyValuePair<string, object?>("reason", reason));

    private IEnumerable<Measurement<long>> ObserveEvictions()
    {
        foreach (var (policy, counts) in _decisions)
        {
            if (Volatile.Read(ref counts.EvictedKeys) is var evicted and > 0)
            {
                yield return new Measurement<long>(evicted, new KeyValuePair<string, object?>("policy", policy));
            }
        }
    }

    private IEnumerable<Measurement<long>> ObserveDecisions()
    {
        foreach (var (policy, counts) in _decisions)
        {
            foreach (var (outcome, count) in counts.Snapshot())
            {
                // Only outcomes that happened, as with Counter<T>.Add: no zero series for every policy and outcome.
                if (count > 0)
                {
                    yield return new Measurement<long>(count, new KeyValuePair<string, object?>("policy", policy), new KeyValuePair<string, object?>("outcome", outcome));
                }
            }
        }
    }

    /// <summary>One policy's decisions by outcome; incremented with <see cref="Interlocked"/>.</summary>
    internal sealed class DecisionCounts
    {
        public long Allowed;
        public long Rejected;
        public long ShadowRejected;
        public long StoreFailed;

        /// <summary>Keys forgotten because the policy held <c>maxKeys</c> (not a decision; its own instrument).</summary>
        public long EvictedKeys;

        public (string Outcome, long Count)[] Snapshot() =>
        [
            ("allowed", Volatile.Read(ref Allowed)),
            ("rejected", Volatile.Read(ref Rejected)),
            ("shadow_rejected", Volatile.Read(ref ShadowRejected)),
            ("store_failed", Volatile.Read(ref StoreFailed)),
        ];
    }
}
