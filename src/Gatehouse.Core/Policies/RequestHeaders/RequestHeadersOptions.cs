using Gatehouse.Configuration;

namespace Gatehouse.Policies.RequestHeaders;

/// <summary>What an underscore in a request header name leads to.</summary>
public enum UnderscoreHeaders
{
    /// <summary>The header is removed before anything reads it (default; nginx's <c>underscores_in_headers off</c>).</summary>
    Drop,

    /// <summary>The request is refused with 400 (Envoy's <c>REJECT_REQUEST</c>).</summary>
    Reject,

    /// <summary>The header is kept and forwarded.</summary>
    Allow,
}

/// <summary>
/// <c>requestHeaders: { underscores: drop, keep: [X-HTTP-Method-Override] }</c> (top level only): which client-sent
/// headers the gateway removes before routing (<see cref="RequestHeaderFilter"/> lists them and says why).
/// </summary>
public sealed record RequestHeadersOptions : ConfigSection
{
    internal static readonly string[] Keys = ["underscores", "keep"];

    internal static readonly Dictionary<string, UnderscoreHeaders> UnderscoreNames = new()
    {
        ["drop"] = UnderscoreHeaders.Drop,
        ["reject"] = UnderscoreHeaders.Reject,
        ["allow"] = UnderscoreHeaders.Allow,
    };

    /// <summary>Header names with <c>_</c>: <c>drop</c> (default), <c>reject</c> (400) or <c>allow</c>.</summary>
    public UnderscoreHeaders Underscores { get; init; } = UnderscoreHeaders.Drop;

    /// <summary>Names exempted from the default removal lists (the operator's backend needs one of them).</summary>
    public IReadOnlyList<string> Keep { get; init; } = [];

    /// <summary>The compiled lists, built once per config.</summary>
    internal RequestHeaderFilter Filter => _filter ??= new RequestHeaderFilter(this);

    private RequestHeaderFilter? _filter;

    internal static RequestHeadersOptions Read(ConfigNodeReader reader) => new()
    {
        Position = reader.Position,
        KeyPositions = reader.KeyPositions,
        Underscores = reader.Enum("underscores", UnderscoreNames) ?? UnderscoreHeaders.Drop,
        Keep = reader.StringList("keep") ?? [],
    };
}
