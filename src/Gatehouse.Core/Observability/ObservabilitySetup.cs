using Gatehouse.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gatehouse.Observability;

/// <summary>
/// Wires the access log, the meters and the tracer from <c>observability:</c> (read once, at start).
/// Metrics: OpenTelemetry's SDK with its Prometheus exporter, scraped at <c>/metrics</c> on the admin listener.
/// Exported meters: the gateway's own (<c>Gatehouse</c>, <c>Gatehouse.*</c>) and Kestrel's, of which only
/// <c>kestrel.active_connections</c> is kept. ASP.NET Core's <c>Microsoft.AspNetCore.Hosting</c> meter is NOT
/// subscribed: its <c>http.server.request.duration</c> is labelled with route patterns and would collide in the
/// exposition with the gateway's own series of the same name, labelled with route NAMES (what operators and the
/// dashboard read); leaving it unsubscribed also keeps its per-request work switched off.
/// </summary>
internal static class ObservabilitySetup
{
    private const string KestrelMeter = "Microsoft.AspNetCore.Server.Kestrel";

    public static void AddObservability(IServiceCollection services, GatewayOptions gateway)
    {
        var options = gateway.Observability;
        services.AddSingleton(options);
        services.AddSingleton<GatewayMetrics>();
        if (options.AccessLog is { Enabled: true } accessLog)
        {
            // Credentials that may travel in a query string: RFC 6750's access_token, the API key's parameter, the operator's list.
            IReadOnlyList<string> redacted = ["access_token", .. gateway.ApiKey?.QueryParameter is { } apiKey ? [apiKey] : Array.Empty<string>(), .. accessLog.RedactQuery];
            services.AddSingleton(new AccessLogWriter(accessLog, redacted));
            services.AddSingleton<GatewayTelemetry>(sp => new GatewayTelemetry(options, sp.GetRequiredService<GatewayMetrics>(), sp.GetRequiredService<AccessLogWriter>()));
        }
        else
        {
            services.AddSingleton<GatewayTelemetry>(sp => new GatewayTelemetry(options, sp.GetRequiredService<GatewayMetrics>(), null));
        }

        var otel = services.AddOpenTelemetry().ConfigureResource(r => r.AddService(options.Tracing.ServiceName));
        if (options.Metrics.Enabled)
        {
            otel.WithMetrics(metrics => metrics
                .AddMeter(GatewayMetrics.MeterName, GatewayMetrics.MeterName + ".*", KestrelMeter)
                .AddView(instrument => instrument.Meter.Name == KestrelMeter && instrument.Name != "kestrel.active_connections"
                    ? MetricStreamConfiguration.Drop
                    : null)
                .AddPrometheusExporter(o =>
                {
                    // Scrapes are rare (seconds apart); a cached answer would only make tests and dashboards lag.
                    o.ScrapeResponseCacheDurationMilliseconds = 0;
                }));
        }

        if (options.Tracing is { Enabled: true, OtlpEndpoint: { } endpoint })
        {
            // GatewayTelemetry decides which requests are recorded (parent-based, ratio on the trace id) before it
            // starts a span, so the SDK records every span it is given.
            otel.WithTracing(tracing => tracing
                .AddSource(GatewayTracing.SourceName)
                .SetSampler(new AlwaysOnSampler())
                .AddOtlpExporter(o =>
                {
                    o.Protocol = OtlpExportProtocol.HttpProtobuf;
                    // The base address, as OTEL_EXPORTER_OTLP_ENDPOINT; a full /v1/traces address is taken as it is.
                    var address = endpoint.TrimEnd('/');
                    o.Endpoint = new Uri(address.EndsWith("/v1/traces", StringComparison.Ordinal) ? address : address + "/v1/traces");
                    o.BatchExportProcessorOptions = new BatchExportProcessorOptions<System.Diagnostics.Activity>
                    {
                        MaxQueueSize = 8192,
                        ScheduledDelayMilliseconds = 1000,
                    };
                }));
        }
    }

    /// <summary><c>GET /metrics</c> on the admin listener: Prometheus text from the proxy application's meter provider.</summary>
    public static void MapMetrics(IEndpointRouteBuilder admin, IServiceProvider gatewayServices)
    {
        if (gatewayServices.GetRequiredService<ObservabilityOptions>().Metrics.Enabled)
        {
            admin.MapPrometheusScrapingEndpoint("/metrics", gatewayServices.GetRequiredService<MeterProvider>(), null, null);
        }
    }
}
