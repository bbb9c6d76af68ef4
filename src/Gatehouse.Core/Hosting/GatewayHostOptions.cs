using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>How to start a gateway: from a file (watched and reloadable) or from text (the embedded default, tests).</summary>
public sealed record GatewayHostOptions
{
    /// <summary>Config file; watched for changes unless <see cref="WatchConfigFile"/> is false.</summary>
    public string? ConfigPath { get; init; }

    /// <summary>Config text used when <see cref="ConfigPath"/> is null.</summary>
    public string? ConfigText { get; init; }

    /// <summary>Name used in error messages for <see cref="ConfigText"/>.</summary>
    public string ConfigName { get; init; } = "gatehouse.yaml";

    /// <summary>Values for <c>${VAR}</c>; falls back to the environment.</summary>
    public IReadOnlyDictionary<string, string>? Variables { get; init; }

    public bool WatchConfigFile { get; init; } = true;

    /// <summary>Reload on SIGHUP (Unix).</summary>
    public bool ReloadOnSignal { get; init; } = true;

    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;

    /// <summary>Extra logging setup (tests capture logs here).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }
}
