using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Policies.Authentication;

internal static class AuthenticationServiceCollectionExtensions
{
    /// <summary>Identity: validators made at compile time, and the authentication, authorization, identity-header and claim-forwarding stages.</summary>
    public static IServiceCollection AddGatehouseAuthentication(this IServiceCollection services) => services
        .AddSingleton<Configuration.IGatewayOptionsValidator, IdentityOptionsValidator>()
        .AddSingleton<AuthenticationMetrics>()
        .AddSingleton<JwtValidatorFactory>()
        .AddSingleton<AuthenticationStage>()
        .AddSingleton<AuthorizationStage>()
        .AddSingleton<IdentityHeadersStage>()
        .AddSingleton<ClaimForwardingStage>();
}
