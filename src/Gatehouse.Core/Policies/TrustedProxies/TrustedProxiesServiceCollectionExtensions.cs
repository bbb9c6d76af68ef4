using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Policies.TrustedProxies;

internal static class TrustedProxiesServiceCollectionExtensions
{
    /// <summary>Trusted proxies: the client address from forwarding headers (a stage before routing), and its validation.</summary>
    public static IServiceCollection AddGatehouseTrustedProxies(this IServiceCollection services) =>
        services.AddSingleton<Configuration.IGatewayOptionsValidator, TrustedProxiesOptionsValidator>();
}
