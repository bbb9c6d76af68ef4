using Gatehouse.Configuration;

namespace Gatehouse.Policies.RequestLimits;

/// <summary><c>limits:</c> globally and per route. Sizes are bytes with binary units (8KB = 8192).</summary>
public sealed record RequestLimitsOptions : ConfigSection
{
    public static readonly RequestLimitsOptions Defaults = new()
    {
        MaxUrlBytes = 8 * 1024,
        MaxHeaderBytes = 32 * 1024,
        MaxBodyBytes = 10 * 1024 * 1024,
    };

    internal static readonly string[] GlobalKeys = ["maxUrlBytes", "maxHeaderBytes", "maxBodyBytes"];

    internal static readonly string[] RouteKeys = ["maxBodyBytes"];

    /// <summary>Request target (path and query) length; longer → 414. Global only. Default 8KB.</summary>
    public long? MaxUrlBytes { get; init; }

    /// <summary>Total size of names and values of all request headers; larger → 431. Global only. Default 32KB.</summary>
    public long? MaxHeaderBytes { get; init; }

    /// <summary>Request body size, declared or chunked; larger → 413. Default 10MB.</summary>
    public long? MaxBodyBytes { get; init; }

    internal static RequestLimitsOptions Read(ConfigNodeReader reader, RequestLimitsOptions fallback) => new()
    {
        Position = reader.Position,
        KeyPositions = reader.KeyPositions,
        MaxUrlBytes = reader.Size("maxUrlBytes") ?? fallback.MaxUrlBytes,
        MaxHeaderBytes = reader.Size("maxHeaderBytes") ?? fallback.MaxHeaderBytes,
        MaxBodyBytes = reader.Size("maxBodyBytes") ?? fallback.MaxBodyBytes,
    };
}
