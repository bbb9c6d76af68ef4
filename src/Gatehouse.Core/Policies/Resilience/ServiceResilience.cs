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
