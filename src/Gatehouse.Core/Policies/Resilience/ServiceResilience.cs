using System.Text;
using Gatehouse.Configuration;

namespace Gatehouse.Policies.Resilience;

/// <summary>
/// A service's compiled resilience: its breaker, retry budget and bulkhead. Built with each snapshot; state that
/// should outlive a reload (an open breaker, the budget's counts, requests in flight) is carried over from the
/// previous snapshot's object when its settings did not change, and starts fresh when they did.
/// </summary>
internal sealed class ServiceResilience
{
    private ServiceResilience(string name) => Name = name;

    public string Name { get; }

    public CircuitBreaker? Breaker { get; private init; }

    public RetryBudget? Retry { get; private init; }

    public Bulkhead? Bulkhead { get; private init; }

    /// <summary>The service's time to response headers, or null.</summary>
    public TimeSpan? ResponseTimeout { get; private init; }

    /// <summary>For a route with its own response timeout on a service that has no resilience settings.</summary>
    public static ServiceResilience None(string name) => new(name);

    /// <summary>Null when the service uses none of retry, circuitBreaker, maxConcurrentRequests and timeout.response.</summary>
    public static ServiceResilience? Compile(ServiceOptions service, ServiceResilience? previous, TimeProvider time)
    {
        if (service.Retry is null && service.CircuitBreaker is null && service.MaxConcurrentRequests is null && service.Timeout?.Response is null)
        {
            return null;
        }

        return new ServiceResilience(service.Name)
        {
            Breaker = service.CircuitBreaker is not { } b ? null
                : previous?.Breaker is { } oldBreaker && oldBreaker.Options.Key == b.Key ? oldBreaker
                : new CircuitBreaker(service.Name, b, time),
            Retry = service.Retry is not { } r ? null
                : previous?.Retry is { } oldBudget && oldBudget.Options.Key == r.Key ? oldBudget
                : new RetryBudget(r, time),
            Bulkhead = service.MaxConcurrentRequests is not { } max ? null
                : new Bulkhead(max, previous?.Bulkhead?.InFlight ?? new InFlightCount()),
            ResponseTimeout = service.Timeout?.Response,
        };
    }
}

/// <summary>Requests in flight to a service; shared by the bulkheads of successive snapshots so a reload does not forget them.</summary>
internal sealed class InFlightCount
{
    public int Value;
}

/// <summary><c>maxConcurrentRequests</c>: one interlocked increment per request, no queue (a queue only adds latency to an overloaded service).</summary>
internal sealed class Bulkhead(int limit, InFlightCount inFlight)
{
    public int Limit { get; } = limit;

    public InFlightCount InFlight { get; } = inFlight;

    public bool TryEnter()
    {
        if (Interlocked.Increment(ref InFlight.Value) <= Limit)
        {
            return true;
        }

        Interlocked.Decrement(ref InFlight.Value);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref InFlight.Value);
}

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
