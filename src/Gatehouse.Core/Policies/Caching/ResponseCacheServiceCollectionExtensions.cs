using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Policies.Caching;

internal static class ResponseCacheServiceCollectionExtensions
{
    /// <summary>The response cache: its node-wide state (memory store, misses in flight), metrics and stage.</summary>
    public static IServiceCollection AddGatehouseResponseCache(this IServiceCollection services) => services
        .AddSingleton<Configuration.IGatewayOptionsValidator, ResponseCacheOptionsValidator>()
        .AddSingleton<CacheMetrics>()
        .AddSingleton<ResponseCache>()
        .AddSingleton<Configuration.IRoutePolicyCompiler, ResponseCacheCompiler>()
        .AddSingleton<ResponseCacheStage>();
}
