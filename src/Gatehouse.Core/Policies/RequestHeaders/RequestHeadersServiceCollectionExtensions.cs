using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Policies.RequestHeaders;

internal static class RequestHeadersServiceCollectionExtensions
{
    /// <summary>Client-sent headers removed before routing (a stage before routing), and the validation of its options.</summary>
    public static IServiceCollection AddGatehouseRequestHeaders(this IServiceCollection services) =>
        services.AddSingleton<Configuration.IGatewayOptionsValidator, RequestHeadersOptionsValidator>();
}
