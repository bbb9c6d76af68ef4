using Gatehouse.Configuration;

namespace Gatehouse.Policies.PathFilter;

/// <summary><c>deny: { paths: ["/internal/**"] }</c>, globally and per route.</summary>
public sealed record PathDenyOptions : ConfigSection
{
    internal static readonly string[] Keys = ["paths"];

    public IReadOnlyList<string> Paths { get; init; } = [];

    internal static PathDenyOptions Read(ConfigNodeReader reader) => new()
    {
        Position = reader.Position,
        KeyPositions = reader.KeyPositions,
        Paths = reader.StringList("paths") ?? [],
    };

    internal static void Validate(PathDenyOptions options, string where, ConfigDiagnostics diagnostics)
    {
        if (options.Paths.Count == 0)
        {
            diagnostics.Error(options.Position, $"{where} needs 'paths', e.g. paths: [\"/internal/**\"]");
        }

        foreach (var pattern in options.Paths)
        {
            if (PathDenyList.Validate(pattern) is { } problem)
            {
                diagnostics.Error(options.PositionOf("paths"), $"{where}.paths: '{pattern}' {problem}");
            }
        }
    }
}

/// <summary><c>pathNormalization: { escapedSlashes: unescape, mergeSlashes: true }</c> (top level only).</summary>
public sealed record PathNormalizationOptions : ConfigSection
{
    internal static readonly string[] Keys = ["escapedSlashes", "mergeSlashes"];

    internal static readonly Dictionary<string, EscapedSlashes> EscapedSlashesNames = new()
    {
        ["unescape"] = EscapedSlashes.Unescape,
        ["reject"] = EscapedSlashes.Reject,
    };

    /// <summary><c>%2F</c> and <c>%5C</c> in paths: <c>unescape</c> (default) or <c>reject</c> (400).</summary>
    public EscapedSlashes EscapedSlashes { get; init; } = EscapedSlashes.Unescape;

    /// <summary>Collapse <c>//</c> into <c>/</c>. Default true.</summary>
    public bool MergeSlashes { get; init; } = true;

    internal static PathNormalizationOptions Read(ConfigNodeReader reader) => new()
    {
        Position = reader.Position,
        KeyPositions = reader.KeyPositions,
        EscapedSlashes = reader.Enum("escapedSlashes", EscapedSlashesNames) ?? EscapedSlashes.Unescape,
        MergeSlashes = reader.Bool("mergeSlashes") ?? true,
    };
}
