using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Gatehouse.Policies.Resilience;

/// <summary>
/// The per-target breaker: outlier ejection through YARP's passive health (Envoy's <c>consecutive_5xx</c>). A
/// target whose last <c>healthCheck.ejectAfterFailures</c> proxied requests all failed (connection error, timeout
/// or a 5xx answer, retried or not) is taken out for <c>reactivationPeriod</c>; the others keep serving. YARP's own
/// transport-failure-rate policy ignores 5xx answers and locks a history per target on every request; this keeps one
/// interlocked counter per target.
/// </summary>
internal sealed class ConsecutiveFailuresPassivePolicy(IDestinationHealthUpdater healthUpdater) : IPassiveHealthCheckPolicy
{
    public const string PolicyName = "Gatehouse.ConsecutiveFailures";

    public const string ThresholdKey = "gatehouse.ejectAfterFailures";

    private static readonly TimeSpan DefaultReactivation = TimeSpan.FromSeconds(30);

    private readonly ConditionalWeakTable<DestinationState, StrongBox<int>> _failures = [];

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        var failures = _failures.GetValue(destination, static _ => new StrongBox<int>());
        var error = context.Features.Get<IForwarderErrorFeature>();
        var failed = error is not null
            ? error.Error is not (ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
                or ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient)
            : context.Response.StatusCode >= 500;
        if (!failed)
        {
            if (Volatile.Read(ref failures.Value) != 0)
            {
                Volatile.Write(ref failures.Value, 0);
            }

            return;
        }

        // The threshold is parsed on failures only: the healthy path pays for one counter read.
        var config = cluster.Model.Config;
        var threshold = config.Metadata is { } metadata && metadata.TryGetValue(ThresholdKey, out var text)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 5;
        if (Interlocked.Increment(ref failures.Value) >= threshold)
        {
            Volatile.Write(ref failures.Value, 0);
            healthUpdater.SetPassive(cluster, destination, DestinationHealth.Unhealthy,
                config.HealthCheck?.Passive?.ReactivationPeriod ?? DefaultReactivation);
        }
    }
}
