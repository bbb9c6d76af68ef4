namespace Gatehouse.Policies.Caching;

/// <summary>The <see cref="ICacheOutcomeFeature"/>; the two most frequent outcomes are shared instances, so hits and bypasses allocate none.</summary>
internal sealed class CacheOutcomeFeature(CacheOutcome outcome) : ICacheOutcomeFeature
{
    public static readonly CacheOutcomeFeature Hit = new(CacheOutcome.Hit);
    public static readonly CacheOutcomeFeature Bypass = new(CacheOutcome.Bypass);

    public CacheOutcome Outcome { get; } = outcome;
}
