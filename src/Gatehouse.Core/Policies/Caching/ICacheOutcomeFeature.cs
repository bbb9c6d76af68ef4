namespace Gatehouse.Policies.Caching;

/// <summary>What the cache did with this request, for the access log and tests; set once per cached route's request.</summary>
internal interface ICacheOutcomeFeature
{
    CacheOutcome Outcome { get; }
}
