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
    /// <remarks>An open breaker, the budget's counts and the requests in flight are runtime objects (<see cref="RuntimeObjects"/>): kept while their settings are.</remarks>
    public static ServiceResilience? Compile(ServiceOptions service, RuntimeObjects runtime, TimeProvider time)
    {
        if (service.Retry is null && service.CircuitBreaker is null && service.MaxConcurrentRequests is null && service.Timeout?.Response is null)
        {
            return null;
        }

        return new ServiceResilience(service.Name)
        {
            Breaker = service.CircuitBreaker is not { } b ? null
                : runtime.GetOrCreate("circuit-breaker", $"{service.Name}|{b.Key}", () => new CircuitBreaker(service.Name, b, time)),
            Retry = service.Retry is not { } r ? null
                : runtime.GetOrCreate("retry-budget", $"{service.Name}|{r.Key}", () => new RetryBudget(r, time)),
            Bulkhead = service.MaxConcurrentRequests is not { } max ? null
                : new Bulkhead(max, runtime.GetOrCreate("in-flight", service.Name, () => new InFlightCount())),
            ResponseTimeout = service.Timeout?.Response,
        };
    }
}
