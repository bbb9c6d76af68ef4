using System.Globalization;
using Gatehouse.Configuration;

namespace Gatehouse.Observability;

/// <summary>
/// <c>observability: { accessLog: {...}, metrics: {...}, tracing: {...} }</c>. Applied when the gateway starts: a
/// reload that changes it applies everything else and logs that a restart is needed (the writer, the exporters and
/// the meter provider are process-wide).
/// </summary>
public sealed record ObservabilityOptions : ConfigSection
{
    internal static readonly string[] Keys = ["accessLog", "metrics", "tracing"];

    /// <summary>The access log; off when the section is absent.</summary>
    public AccessLogOptions? AccessLog { get; init; }

    public MetricsOptions Metrics { get; init; } = new();

    public TracingOptions Tracing { get; init; } = new();

    internal static ObservabilityOptions Read(ConfigNodeReader r)
    {
        var accessLog = r.Mapping("accessLog", AccessLogOptions.Keys);
        var metrics = r.Mapping("metrics", MetricsOptions.Keys);
        var tracing = r.Mapping("tracing", TracingOptions.Keys);
        return new ObservabilityOptions
        {
            Position = r.Position,
            KeyPositions = r.KeyPositions,
            AccessLog = accessLog is null ? (r.Has("accessLog") ? new AccessLogOptions() : null) : AccessLogOptions.Read(accessLog),
            Metrics = metrics is null ? new MetricsOptions() : new MetricsOptions
            {
                Position = metrics.Position,
                KeyPositions = metrics.KeyPositions,
                Enabled = metrics.Bool("enabled") ?? true,
            },
            Tracing = tracing is null ? new TracingOptions() : TracingOptions.Read(tracing),
        };
    }

    /// <summary>Equal settings, wherever they stand in the file (records compare positions too).</summary>
    internal static bool SameSettings(ObservabilityOptions a, ObservabilityOptions b) =>
        a.Metrics.Enabled == b.Metrics.Enabled
        && (a.Tracing.Enabled, a.Tracing.OtlpEndpoint, a.Tracing.SampleRatio, a.Tracing.ServiceName) == (b.Tracing.Enabled, b.Tracing.OtlpEndpoint, b.Tracing.SampleRatio, b.Tracing.ServiceName)
        && (a.AccessLog is null) == (b.AccessLog is null)
        && (a.AccessLog is null || (
            (a.AccessLog.Enabled, a.AccessLog.Output, a.AccessLog.MaxFileBytes, a.AccessLog.MaxFiles, a.AccessLog.SampleSuccess, a.AccessLog.QueueSize)
                == (b.AccessLog!.Enabled, b.AccessLog.Output, b.AccessLog.MaxFileBytes, b.AccessLog.MaxFiles, b.AccessLog.SampleSuccess, b.AccessLog.QueueSize)
            && a.AccessLog.RedactQuery.SequenceEqual(b.AccessLog.RedactQuery)));

    /// <summary>A fraction from 0 to 1 (<c>0.25</c> or <c>25%</c>).</summary>
    internal static double? Fraction(ConfigNodeReader r, string key)
    {
        var text = r.String(key)?.Trim();
        if (text is null)
        {
            return null;
        }

        var percent = text.EndsWith('%');
        if (double.TryParse(percent ? text[..^1] : text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            value = percent ? value / 100 : value;
            if (value is >= 0 and <= 1)
            {
                return value;
            }
        }

        r.Error(key, $"{r.Section}.{key} must be a fraction from 0 to 1 (e.g. 0.1 or 10%), not '{text}'");
        return null;
    }
}

/// <summary>One ECS JSON line per request (NDJSON), to stdout or a size-rotated file.</summary>
public sealed record AccessLogOptions : ConfigSection
{
    internal static readonly string[] Keys = ["enabled", "output", "maxFileBytes", "maxFiles", "sampleSuccess", "queueSize", "redactQuery"];

    /// <summary>Default true when the section is present.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary><c>stdout</c> (default) or a file path; a file is rotated by size.</summary>
    public string Output { get; init; } = "stdout";

    /// <summary>A file is rotated when a write would take it past this size. Default 100MB.</summary>
    public long MaxFileBytes { get; init; } = 100L * 1024 * 1024;

    /// <summary>Rotated files kept beside the live one (<c>access.log.1</c> is the newest). Default 5.</summary>
    public int MaxFiles { get; init; } = 5;

    /// <summary>Fraction of successful (status below 400) lines written; errors are always written. Default 1.</summary>
    public double SampleSuccess { get; init; } = 1;

    /// <summary>Lines waiting for the writer; when full, new lines are dropped and counted (<c>gatehouse.access_log.dropped</c>). Default 8192.</summary>
    public int QueueSize { get; init; } = 8192;

    /// <summary>
    /// Query parameters whose values are written as <c>REDACTED</c>, besides <c>access_token</c> and the API key's
    /// <c>apiKey.queryParameter</c>, which always are.
    /// </summary>
    public IReadOnlyList<string> RedactQuery { get; init; } = [];

    internal bool IsStdout => Output == "stdout";

    internal static AccessLogOptions Read(ConfigNodeReader r)
    {
        var defaults = new AccessLogOptions();
        return new AccessLogOptions
        {
            Position = r.Position,
            KeyPositions = r.KeyPositions,
            Enabled = r.Bool("enabled") ?? defaults.Enabled,
            Output = r.String("output") ?? defaults.Output,
            MaxFileBytes = r.Size("maxFileBytes") ?? defaults.MaxFileBytes,
            MaxFiles = r.Int("maxFiles", 0, 100) ?? defaults.MaxFiles,
            SampleSuccess = ObservabilityOptions.Fraction(r, "sampleSuccess") ?? defaults.SampleSuccess,
            QueueSize = r.Int("queueSize", 16, 1_000_000) ?? defaults.QueueSize,
            RedactQuery = r.StringList("redactQuery") ?? defaults.RedactQuery,
        };
    }

    internal static void Validate(AccessLogOptions options, ConfigDiagnostics diagnostics)
    {
        if (string.IsNullOrWhiteSpace(options.Output))
        {
            diagnostics.Error(options.PositionOf("output"), "observability.accessLog.output must be 'stdout' or a file path");
        }

        if (options.MaxFileBytes < 4096)
        {
            diagnostics.Error(options.PositionOf("maxFileBytes"), "observability.accessLog.maxFileBytes must be at least 4KB");
        }
    }
}

public sealed record MetricsOptions : ConfigSection
{
    internal static readonly string[] Keys = ["enabled"];

    /// <summary>Prometheus text at <c>/metrics</c> on the admin listener. Default true.</summary>
    public bool Enabled { get; init; } = true;
}

/// <summary>W3C trace context and OpenTelemetry spans.</summary>
public sealed record TracingOptions : ConfigSection
{
    internal static readonly string[] Keys = ["enabled", "otlpEndpoint", "sampleRatio", "serviceName"];

    /// <summary>
    /// Continue the client's <c>traceparent</c> (or start a trace), send it to the backend, and put the trace id in
    /// access log lines and problem bodies. Default true; spans are exported only with <see cref="OtlpEndpoint"/>.
    /// </summary>
    public bool Enabled { get; init; } = true;

    /// <summary>OTLP/HTTP (protobuf) collector base address, e.g. <c>http://127.0.0.1:4318</c>; spans go to <c>/v1/traces</c>. Default none: no spans are recorded.</summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary>Fraction of new traces recorded; a client's sampled flag is followed (parent-based). Default 0.01.</summary>
    public double SampleRatio { get; init; } = 0.01;

    /// <summary>The <c>service.name</c> resource attribute. Default <c>gatehouse</c>.</summary>
    public string ServiceName { get; init; } = "gatehouse";

    internal static TracingOptions Read(ConfigNodeReader r)
    {
        var defaults = new TracingOptions();
        return new TracingOptions
        {
            Position = r.Position,
            KeyPositions = r.KeyPositions,
            Enabled = r.Bool("enabled") ?? defaults.Enabled,
            OtlpEndpoint = r.String("otlpEndpoint"),
            SampleRatio = ObservabilityOptions.Fraction(r, "sampleRatio") ?? defaults.SampleRatio,
            ServiceName = r.String("serviceName") ?? defaults.ServiceName,
        };
    }

    internal static void Validate(TracingOptions options, ConfigDiagnostics diagnostics)
    {
        if (options.OtlpEndpoint is { } endpoint
            && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            diagnostics.Error(options.PositionOf("otlpEndpoint"), $"observability.tracing.otlpEndpoint must be an http:// or https:// address, not '{endpoint}'");
        }

        if (options.OtlpEndpoint is not null && !options.Enabled)
        {
            diagnostics.Error(options.PositionOf("otlpEndpoint"), "observability.tracing.otlpEndpoint needs tracing enabled");
        }
    }
}
