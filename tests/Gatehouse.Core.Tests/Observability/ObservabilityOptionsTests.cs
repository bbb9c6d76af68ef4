using Gatehouse.Configuration;
using Gatehouse.Observability;

namespace Gatehouse.Core.Tests.Observability;

public class ObservabilityOptionsTests
{
    private static string Config(string observability) => $$"""
        {{observability}}
        services:
          a: { targets: ["http://127.0.0.1:1"] }
        routes:
          - { name: r, match: { path: /x }, service: a }
        """;

    private static ObservabilityOptions Load(string observability) => ConfigLoader.Load(Config(observability), "t.yaml", _ => null).Observability;

    [Fact]
    public void Accepts_EveryKey_BindsThem()
    {
        var options = Load("""
            observability:
              accessLog: { enabled: true, output: /tmp/a.log, maxFileBytes: 10MB, maxFiles: 3, sampleSuccess: 25%, queueSize: 1024, redactQuery: [sig] }
              metrics: { enabled: false }
              tracing: { enabled: true, otlpEndpoint: "http://127.0.0.1:4318", sampleRatio: 0.5, serviceName: edge }
            """);

        var log = options.AccessLog!;
        Assert.Equal((true, "/tmp/a.log", 10L * 1024 * 1024, 3, 0.25, 1024), (log.Enabled, log.Output, log.MaxFileBytes, log.MaxFiles, log.SampleSuccess, log.QueueSize));
        Assert.Equal(["sig"], log.RedactQuery);
        Assert.False(options.Metrics.Enabled);
        Assert.Equal((true, "http://127.0.0.1:4318", 0.5, "edge"), (options.Tracing.Enabled, options.Tracing.OtlpEndpoint, options.Tracing.SampleRatio, options.Tracing.ServiceName));
    }

    [Fact]
    public void Defaults_NoSection_MetricsAndTraceContextOn_NoAccessLog_NoSpans()
    {
        var options = Load("");

        Assert.Null(options.AccessLog);
        Assert.True(options.Metrics.Enabled);
        Assert.True(options.Tracing.Enabled);
        Assert.Null(options.Tracing.OtlpEndpoint);
        Assert.Equal(0.01, options.Tracing.SampleRatio);
    }

    [Fact]
    public void Defaults_EmptyAccessLog_StdoutEverything()
    {
        var log = Load("observability: { accessLog: {} }").AccessLog!;

        Assert.Equal((true, "stdout", 100L * 1024 * 1024, 5, 1.0, 8192), (log.Enabled, log.Output, log.MaxFileBytes, log.MaxFiles, log.SampleSuccess, log.QueueSize));
    }

    [Theory]
    [InlineData("observability: { accessLog: { sampleSuccess: 1.5 } }", "fraction from 0 to 1")]
    [InlineData("observability: { accessLog: { sampleSuccess: lots } }", "fraction from 0 to 1")]
    [InlineData("observability: { accessLog: { maxFileBytes: 1KB } }", "at least 4KB")]
    [InlineData("observability: { accessLog: { maxFiles: 101 } }", "maxFiles")]
    [InlineData("observability: { accessLog: { queueSize: 1 } }", "queueSize")]
    [InlineData("observability: { accessLog: { output: \"\" } }", "'stdout' or a file path")]
    [InlineData("observability: { accessLog: { outptu: stdout } }", "outptu")]
    [InlineData("observability: { tracing: { otlpEndpoint: \"grpc://collector:4317\" } }", "http:// or https://")]
    [InlineData("observability: { tracing: { enabled: false, otlpEndpoint: \"http://127.0.0.1:4318\" } }", "needs tracing enabled")]
    [InlineData("observability: { tracing: { sampleRatio: -0.1 } }", "fraction from 0 to 1")]
    [InlineData("observability: { logs: {} }", "logs")]
    public void Rejects_InvalidSettings_WithPosition(string observability, string message)
    {
        var e = Assert.Throws<ConfigException>(() => Load(observability));

        var error = Assert.Single(e.Errors, x => x.Message.Contains(message, StringComparison.Ordinal));
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void SameSettings_IgnoresPositions_SeesValueChanges()
    {
        var a = Load("observability: { accessLog: { output: stdout, redactQuery: [x] } }");
        var moved = Load("\n\nobservability:\n  accessLog: { output: stdout, redactQuery: [x] }");
        var changed = Load("observability: { accessLog: { output: stdout, redactQuery: [y] } }");

        Assert.True(ObservabilityOptions.SameSettings(a, moved));
        Assert.False(ObservabilityOptions.SameSettings(a, changed));
    }
}
