namespace Gatehouse.Policies.Caching;

/// <summary>What a coalesced request's leader served, for the requests that waited: the entry and its Cache-Status parts.</summary>
internal sealed record SharedAnswer(CachedResponse Entry, string Forwarded, string? Detail);
