using Gatehouse.Configuration;

namespace Gatehouse.Policies.Resilience;

/// <summary>
/// Typed read access to the breakers of the config in force, for the admin API, metrics and tests: nobody needs to
/// parse logs to know whether a service fails fast.
/// </summary>
internal sealed class CircuitBreakerStates(GatewayState state)
{
    /// <summary>The state of the service's breaker, or null when the service has none (or does not exist).</summary>
    public CircuitState? GetState(string service) =>
        state.Current.Resilience.TryGetValue(service, out var resilience) && resilience.Breaker is { } breaker ? breaker.State : null;

    /// <summary>Every service with a breaker, in name order.</summary>
    public IReadOnlyList<(string Service, CircuitState State, CircuitBreakerOptions Options)> All() =>
        state.Current.Resilience.Values
            .Where(r => r.Breaker is not null)
            .OrderBy(r => r.Name, StringComparer.Ordinal)
            .Select(r => (r.Name, r.Breaker!.State, r.Breaker.Options))
            .ToList();
}
