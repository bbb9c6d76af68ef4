using System.Diagnostics.Metrics;
using Gatehouse.Configuration;

namespace Gatehouse.Observability;

/// <summary>
/// The gateway's own instruments (meter <c>Gatehouse</c>), from <see cref="IMeterFactory"/>. Request duration follows
/// OpenTelemetry's HTTP semantic conventions, but <c>http.route</c> is the gateway route's NAME (bounded, what
/// operators and the dashboard know), not ASP.NET Core's route pattern. Labels are bounded: route and service
/// names come from the config, methods are folded to the known set, status codes are numbers; never a raw path,
/// client address or consumer.
/// </summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "Gatehouse";

    /// <summary>The route label of requests that matched no route (404, 405, and anything refused before routing).</summary>
    public const string UnmatchedRoute = "unmatched";

    // OpenTelemetry's advice for HTTP durations (semantic conventions, http.server.request.duration).
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    // Status codes boxed once: a tag value is an object, and boxing per request would allocate.
    private static readonly object[] StatusCodes = Enumerable.Range(0, 600).Select(i => (object)i).ToArray();

    private readonly Histogram<double> _requestDuration;
    private readonly Histogram<double> _upstreamDuration;
    private readonly Counter<long> _reloads;
    private readonly Counter<long> _accessLogDropped;
    private readonly Counter<long> _authFailures;

    public GatewayMetrics(IMeterFactory meterFactory, GatewayState state)
    {
        var meter = meterFactory.Create(MeterName);
        _requestDuration = meter.CreateHistogram(
            "http.server.request.duration",
            unit: "s",
            description: "Duration of HTTP server requests, by gateway route name.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _upstreamDuration = meter.CreateHistogram(
            "gatehouse.upstream.request.duration",
            unit: "s",
            description: "Time from sending a request to a target until its response headers arrived (or the try failed), per try.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _reloads = meter.CreateCounter<long>("gatehouse.config.reloads", unit: "{reload}", description: "Config reloads by result: success or failure (the running config kept serving).");
        _accessLogDropped = meter.CreateCounter<long>("gatehouse.access_log.dropped", unit: "{line}", description: "Access log lines dropped because the writer's queue was full (logging never blocks a request).");
        _authFailures = meter.CreateCounter<long>("gatehouse.auth.failures", unit: "{request}", description: "Requests refused by authentication or authorization, by reason (the problem type).");
        meter.CreateObservableGauge("gatehouse.config.info", () => ObserveConfig(state), unit: "{config}",
            description: "1 for the config in force, labelled with its SHA-256 (first 12 hex digits) and generation.");
    }

    public void RequestCompleted(string route, string method, int status, double seconds) =>
        _requestDuration.Record(
            seconds,
            new KeyValuePair<string, object?>("http.route", route),
            new KeyValuePair<string, object?>("http.request.method", method),
            new KeyValuePair<string, object?>("http.response.status_code", Status(status)));

    /// <summary>A try that got response headers (<paramref name="status"/> &gt; 0) or failed without (0: <c>error.type</c> = transport).</summary>
    public void UpstreamCompleted(string service, string target, int status, double seconds)
    {
        if (status > 0)
        {
            _upstreamDuration.Record(
                seconds,
                new KeyValuePair<string, object?>("gatehouse.service", service),
                new KeyValuePair<string, object?>("gatehouse.target", target),
                new KeyValuePair<string, object?>("http.response.status_code", Status(status)));
        }
        else
        {
            _upstreamDuration.Record(
                seconds,
                new KeyValuePair<string, object?>("gatehouse.service", service),
                new KeyValuePair<string, object?>("gatehouse.target", target),
                new KeyValuePair<string, object?>("error.type", "transport"));
        }
    }

    public void ConfigReloaded(bool success) => _reloads.Add(1, new KeyValuePair<string, object?>("result", success ? "success" : "failure"));

    public void AccessLogDropped(long lines = 1) => _accessLogDropped.Add(lines);

    public void AuthFailed(string reason) => _authFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Known methods as themselves, anything else as <c>_OTHER</c> (semantic conventions): a client cannot grow the label set.</summary>
    public static string NormalizeMethod(string method) => method switch
    {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => "_OTHER",
    };

    private static object Status(int status) => (uint)status < (uint)StatusCodes.Length ? StatusCodes[status] : status;

    private static IEnumerable<Measurement<int>> ObserveConfig(GatewayState state)
    {
        if (state.CurrentOrNull is not { } current)
        {
            yield break;
        }

        yield return new Measurement<int>(
            1,
            new KeyValuePair<string, object?>("hash", current.Hash[..Math.Min(12, current.Hash.Length)]),
            new KeyValuePair<string, object?>("generation", current.Generation));
    }
}
