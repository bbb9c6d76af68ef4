using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Policies.RequestLimits;

internal static class RequestLimitsServiceCollectionExtensions
{
    /// <summary>The route body limit stage (the limits that need no route run before routing).</summary>
    public static IServiceCollection AddGatehouseRequestLimits(this IServiceCollection services) =>
        services.AddSingleton<RouteBodyLimitStage>();
}
