using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Policies.RateLimiting;

internal static class RateLimitingServiceCollectionExtensions
{
    /// <summary>Rate limits: the compiler (counters kept across reloads), the stage and its decision counts.</summary>
    public static IServiceCollection AddGatehouseRateLimiting(this IServiceCollection services) => services
        .AddSingleton<Configuration.IGatewayOptionsValidator, RateLimitOptionsValidator>()
        .AddSingleton<RateLimitMetrics>()
        .AddSingleton<RateLimitCompiler>()
        .AddSingleton<RateLimitStage>();
}
