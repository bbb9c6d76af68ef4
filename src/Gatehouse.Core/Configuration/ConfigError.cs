namespace Gatehouse.Configuration;

/// <summary>A position in a config file, 1-based as editors show it.</summary>
public readonly record struct SourcePosition(int Line, int Column)
{
    public static readonly SourcePosition Unknown = new(0, 0);
}

/// <summary>One problem found while loading a config file, printed as <c>FILE:LINE:COL: message</c>.</summary>
public sealed record ConfigError(string File, int Line, int Column, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>Thrown when a config cannot be loaded; carries every error found, not only the first.</summary>
public sealed class ConfigException(IReadOnlyList<ConfigError> errors)
    : Exception(errors.Count == 0 ? "invalid configuration" : string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}

/// <summary>Collects errors for one file so that a load reports all of them at once.</summary>
internal sealed class ConfigDiagnostics(string file)
{
    private readonly List<ConfigError> _errors = [];

    public string File { get; } = file;

    public IReadOnlyList<ConfigError> Errors => _errors;

    public bool HasErrors => _errors.Count > 0;

    public void Error(SourcePosition at, string message) => _errors.Add(new ConfigError(File, at.Line, at.Column, message));
}
