namespace Gatehouse.Policies.Caching;

/// <summary>What <see cref="CachingResponseBody"/> does with the response it stands in for (see its summary).</summary>
internal enum CaptureMode
{
    Undecided,
    PassThrough,
    Tee,
    Discard,
}
