using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Policies.Resilience;

internal static class ResilienceServiceCollectionExtensions
{
    /// <summary>
    /// Resilience: the stage, its metrics, the breaker view for the admin API, outlier ejection, and the backend
    /// HttpClient factory (connect timeout, backend TLS). The factory goes in before AddReverseProxy, whose own
    /// registration only fills the slot when it is empty.
    /// </summary>
    public static IServiceCollection AddGatehouseResilience(this IServiceCollection services) => services
        .AddSingleton<Configuration.IGatewayOptionsValidator, ResilienceOptionsValidator>()
        .AddSingleton<ResilienceMetrics>()
        .AddSingleton<CircuitBreakerStates>()
        .AddSingleton<ResilienceStage>()
        .AddSingleton<Yarp.ReverseProxy.Health.IPassiveHealthCheckPolicy, ConsecutiveFailuresPassivePolicy>()
        .AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory, Proxy.BackendHttpClientFactory>();
}
