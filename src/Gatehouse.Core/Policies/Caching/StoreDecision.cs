namespace Gatehouse.Policies.Caching;

/// <summary>
/// Whether a response may be stored (<see cref="CacheStorability.Decide"/>): its freshness, null when it may not, and
/// the names of its <c>Vary</c> headers beyond the ones the route already keys by.
/// </summary>
internal readonly record struct StoreDecision(Freshness? Freshness, string[] VaryNames);
