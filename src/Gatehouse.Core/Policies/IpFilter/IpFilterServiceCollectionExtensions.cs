using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Policies.IpFilter;

internal static class IpFilterServiceCollectionExtensions
{
    /// <summary>The IP filter stage (global and route allow/deny lists).</summary>
    public static IServiceCollection AddGatehouseIpFilter(this IServiceCollection services) => services
        .AddSingleton<Configuration.IGatewayOptionsValidator, IpFilterOptionsValidator>()
        .AddSingleton<IpFilterStage>();
}
