using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// One stored response, kept ready to write: status, the headers as name/value pairs exactly as they go out, and the
/// body as one array, so a hit sets headers and makes one body write. Immutable once stored except for the LRU stamp
/// and the per-second header strings; a revalidation that refreshes it stores a copy (<see cref="Refreshed"/>).
/// </summary>
internal sealed class CachedResponse
{
    public required string Key { get; init; }

    public required int Status { get; init; }

    public required string[] HeaderNames { get; init; }

    public required StringValues[] HeaderValues { get; init; }

    public required byte[] Body { get; init; }

    /// <summary>Its RFC 9111 freshness: set once from the response (or a 304 that revalidated it); read through the properties below.</summary>
    public required Freshness Freshness { get; init; }

    /// <summary>When the request that fetched it was sent and its response received (RFC 9111 4.2.3 request_time, response_time).</summary>
    public DateTimeOffset RequestTime => Freshness.RequestTime;

    public DateTimeOffset ResponseTime => Freshness.ResponseTime;

    /// <summary>corrected_initial_age of RFC 9111 4.2.3.</summary>
    public TimeSpan InitialAge => Freshness.InitialAge;

    public TimeSpan FreshnessLifetime => Freshness.Lifetime;

    /// <summary>How long past freshness it may be served while revalidating, and when the backend fails.</summary>
    public TimeSpan StaleWhileRevalidate => Freshness.StaleWhileRevalidate;

    public TimeSpan StaleIfError => Freshness.StaleIfError;

    /// <summary><c>must-revalidate</c>, <c>proxy-revalidate</c> or <c>s-maxage</c>: never served stale.</summary>
    public bool MustRevalidate => Freshness.MustRevalidate;

    /// <summary>Response <c>no-cache</c>: stored, but revalidated before every use.</summary>
    public bool NoCache => Freshness.NoCache;

    public string? ETag { get; init; }

    public string? LastModified { get; init; }

    /// <summary>Header names of the response's <c>Vary</c> (beyond the route's own) and the request's values for them when stored.</summary>
    public string[] VaryNames { get; init; } = [];

    public string[] VaryValues { get; init; } = [];

    public string[] Tags { get; init; } = [];

    /// <summary><c>scheme://host</c> and the path, for purge by URL and prefix.</summary>
    public required string Origin { get; init; }

    public required string Path { get; init; }

    /// <summary>Approximate bytes held: body, headers, key (what the memory store's bound counts).</summary>
    public long Size { get; init; }

    /// <summary>Last use, in <see cref="Environment.TickCount64"/> milliseconds, for LRU eviction; written without a lock.</summary>
    internal long LastAccess;

    private HitStamp? _stamp;
    private string? _contentLength;

    /// <summary>The body's length as header text, formatted once (a benign race may format it twice).</summary>
    public string ContentLengthText => _contentLength ??= Body.Length.ToString(CultureInfo.InvariantCulture);

    public TimeSpan CurrentAge(DateTimeOffset now) => InitialAge + (now - ResponseTime) is var age && age > TimeSpan.Zero ? age : TimeSpan.Zero;

    /// <summary>Whether the request's values of the entry's <c>Vary</c> headers are the ones it was stored for (RFC 9111 4.1).</summary>
    public bool VaryMatches(IHeaderDictionary requestHeaders)
    {
        for (var i = 0; i < VaryNames.Length; i++)
        {
            if (!string.Equals(requestHeaders[VaryNames[i]].ToString(), VaryValues[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>How long it may still be kept anywhere: freshness plus the longer stale allowance.</summary>
    public TimeSpan KeepFor(DateTimeOffset now) =>
        FreshnessLifetime + (StaleWhileRevalidate > StaleIfError ? StaleWhileRevalidate : StaleIfError) - CurrentAge(now);

    /// <summary>
    /// <c>Age</c> and <c>Cache-Status</c> values for a hit at <paramref name="ageSeconds"/>, formatted once per second
    /// per entry rather than once per hit.
    /// </summary>
    public HitStamp Stamp(long ageSeconds)
    {
        var stamp = Volatile.Read(ref _stamp);
        if (stamp is not null && stamp.AgeSeconds == ageSeconds)
        {
            return stamp;
        }

        var age = ageSeconds.ToString(CultureInfo.InvariantCulture);
        var ttl = ((long)FreshnessLifetime.TotalSeconds - ageSeconds).ToString(CultureInfo.InvariantCulture);
        stamp = new HitStamp(ageSeconds, age, "Gatehouse; hit; ttl=" + ttl);
        Volatile.Write(ref _stamp, stamp);
        return stamp;
    }

    /// <summary>A copy with freshness from a 304 that revalidated it (RFC 9111 4.3.4: the 304's headers replace the stored ones).</summary>
    public CachedResponse Refreshed(Freshness freshness, IReadOnlyList<KeyValuePair<string, StringValues>> updatedHeaders)
    {
        var names = new List<string>(HeaderNames);
        var values = new List<StringValues>(HeaderValues);
        foreach (var (name, value) in updatedHeaders)
        {
            var i = names.FindIndex(n => n.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (i >= 0)
            {
                values[i] = value;
            }
            else
            {
                names.Add(name);
                values.Add(value);
            }
        }

        return new CachedResponse
        {
            Key = Key,
            Status = Status,
            HeaderNames = names.ToArray(),
            HeaderValues = values.ToArray(),
            Body = Body,
            Freshness = freshness,
            ETag = ETag,
            LastModified = LastModified,
            VaryNames = VaryNames,
            VaryValues = VaryValues,
            Tags = Tags,
            Origin = Origin,
            Path = Path,
            Size = Size,
        };
    }
}
