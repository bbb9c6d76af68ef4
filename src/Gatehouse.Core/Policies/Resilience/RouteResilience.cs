using System.Text;
using Gatehouse.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gatehouse.Policies.Resilience;

/// <summary>A route's view of its service's resilience, with the route's own overrides; travels on the endpoint.</summary>
internal sealed class RouteResilience
{
    public required ServiceResilience Service { get; init; }

    /// <summary>The route's <c>timeout.response</c>, else the service's; null for none.</summary>
    public TimeSpan? ResponseTimeout { get; init; }

    public CompiledFallback? Fallback { get; init; }

    /// <summary>The route's own <c>timeout.idle</c>, replacing the service's; null to keep the service's.</summary>
    public TimeSpan? IdleTimeout { get; init; }

    // The cluster as YARP last gave it, and the same cluster with this route's idle timeout. Rebuilt when YARP's
    // changes (a reload, a new HttpClient); one reference comparison per request otherwise.
    private ClusterPair? _cluster;

    /// <summary>Null when neither the route nor its service has anything for the resilience stage to do.</summary>
    public static RouteResilience? Compile(RouteOptions route, ServiceResilience? service, string serviceName)
    {
        var timeout = route.Timeout?.Response ?? service?.ResponseTimeout;
        var idle = route.Timeout?.Idle;
        if (service is null && timeout is null && idle is null)
        {
            return null;
        }

        return new RouteResilience
        {
            Service = service ?? ServiceResilience.None(serviceName),
            ResponseTimeout = timeout,
            IdleTimeout = idle,
            Fallback = route.Fallback is { } f ? new CompiledFallback(f) : null,
        };
    }

    /// <summary>
    /// The cluster model the forwarder should use: YARP takes the idle (activity) timeout from the cluster's
    /// <c>HttpRequest</c> config, so a route with its own gets a copy of the cluster that differs only in that, and
    /// shares its HttpClient, health and load balancing.
    /// </summary>
    public ClusterModel ClusterFor(ClusterModel cluster)
    {
        var pair = Volatile.Read(ref _cluster);
        if (pair is not null && ReferenceEquals(pair.Source, cluster))
        {
            return pair.Derived;
        }

        var config = cluster.Config with
        {
            HttpRequest = (cluster.Config.HttpRequest ?? ForwarderRequestConfig.Empty) with { ActivityTimeout = IdleTimeout },
        };
        pair = new ClusterPair(cluster, new ClusterModel(config, cluster.HttpClient));
        Volatile.Write(ref _cluster, pair);
        return pair.Derived;
    }

    private sealed record ClusterPair(ClusterModel Source, ClusterModel Derived);
}

/// <summary>A route's fallback with its body encoded once.</summary>
internal sealed class CompiledFallback(FallbackOptions options)
{
    public int Status { get; } = options.Status;

    public string? ContentType { get; } = options.ContentType ?? (options.Body.Length > 0 ? "text/plain; charset=utf-8" : null);

    public ReadOnlyMemory<byte> Body { get; } = Encoding.UTF8.GetBytes(options.Body);
}
