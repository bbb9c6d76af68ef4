using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Policies.PathFilter;

internal static class PathFilterServiceCollectionExtensions
{
    /// <summary>The path deny stage (path normalisation runs before routing, its transform on rewritten paths).</summary>
    public static IServiceCollection AddGatehousePathFilter(this IServiceCollection services) => services
        .AddSingleton<Configuration.IGatewayOptionsValidator, PathDenyOptionsValidator>()
        .AddSingleton<PathDenyStage>();
}
