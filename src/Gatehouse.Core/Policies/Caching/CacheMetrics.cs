using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// The cache's instruments, from <see cref="IMeterFactory"/>. Labels stay bounded: route names come from the config,
/// results are a fixed set; keys and URLs never become labels.
/// </summary>
internal sealed class CacheMetrics
{
    public const string MeterName = "Gatehouse.Caching";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _storeFailures;

    public CacheMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>(
            "gatehouse.cache.requests",
            unit: "{request}",
            description: "Requests to cached routes by route and result: hit, miss, collapsed, stale (stale-while-revalidate), stale_if_error, revalidated, bypass.");
        _storeFailures = meter.CreateCounter<long>(
            "gatehouse.cache.store_failures",
            unit: "{operation}",
            description: "Redis cache reads and writes that failed or timed out (each read counted as a miss).");
    }

    /// <summary>
    /// The request's result, reported once in every place that reads it: its <see cref="ICacheOutcomeFeature"/> (the
    /// span, tests), the request counter and the access log.
    /// </summary>
    public void Record(HttpContext context, string route, CacheOutcome outcome)
    {
        context.Features.Set<ICacheOutcomeFeature>(outcome switch
        {
            CacheOutcome.Hit => CacheOutcomeFeature.Hit,
            CacheOutcome.Bypass => CacheOutcomeFeature.Bypass,
            _ => new CacheOutcomeFeature(outcome),
        });
        Counted(route, outcome);
        if (Observability.GatewayRequestTelemetry.Of(context) is { } telemetry)
        {
            telemetry.CacheStatus = Name(outcome);
        }
    }

    private void Counted(string route, CacheOutcome outcome) =>
        _requests.Add(1, new KeyValuePair<string, object?>("route", route), new KeyValuePair<string, object?>("result", Name(outcome)));

    public void StoreFailed(string operation) =>
        _storeFailures.Add(1, new KeyValuePair<string, object?>("operation", operation));

    public static string Name(CacheOutcome outcome) => outcome switch
    {
        CacheOutcome.Hit => "hit",
        CacheOutcome.Miss => "miss",
        CacheOutcome.Collapsed => "collapsed",
        CacheOutcome.StaleWhileRevalidate => "stale",
        CacheOutcome.StaleIfError => "stale_if_error",
        CacheOutcome.Revalidated => "revalidated",
        _ => "bypass",
    };
}
