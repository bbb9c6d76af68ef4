using System.Text;
using Gatehouse.Configuration;

namespace Gatehouse.Policies.Resilience;

/// <summary>A route's view of its service's resilience, with the route's own overrides; travels on the endpoint.</summary>
internal sealed class RouteResilience
{
    public required ServiceResilience Service { get; init; }

    /// <summary>The route's <c>timeout.response</c>, else the service's; null for none.</summary>
    public TimeSpan? ResponseTimeout { get; init; }

    public CompiledFallback? Fallback { get; init; }

    /// <summary>Null when neither the route nor its service has anything for the resilience stage to do.</summary>
    public static RouteResilience? Compile(RouteOptions route, ServiceResilience? service, string serviceName)
    {
        var timeout = route.Timeout?.Response ?? service?.ResponseTimeout;
        if (service is null && timeout is null)
        {
            return null;
        }

        return new RouteResilience
        {
            Service = service ?? ServiceResilience.None(serviceName),
            ResponseTimeout = timeout,
            Fallback = route.Fallback is { } f ? new CompiledFallback(f) : null,
        };
    }
}

/// <summary>A route's fallback with its body encoded once.</summary>
internal sealed class CompiledFallback(FallbackOptions options)
{
    public int Status { get; } = options.Status;

    public string? ContentType { get; } = options.ContentType ?? (options.Body.Length > 0 ? "text/plain; charset=utf-8" : null);

    public ReadOnlyMemory<byte> Body { get; } = Encoding.UTF8.GetBytes(options.Body);
}
