namespace Gatehouse.Policies.Caching;

/// <summary>A hit's <c>Age</c> and <c>Cache-Status</c> values for one second of an entry's age (<see cref="CachedResponse.Stamp"/>).</summary>
internal sealed record HitStamp(long AgeSeconds, string Age, string CacheStatus);
