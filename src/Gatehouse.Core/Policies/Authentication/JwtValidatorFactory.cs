using Gatehouse.Configuration;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// Makes the validator of each identity provider when a snapshot is compiled. The provider's signing keys are a
/// runtime object (<see cref="RuntimeObjects"/>, kind <c>oidc-signing-keys</c>): a reload that keeps the issuer and
/// refresh settings keeps the keys in hand instead of refetching them; the validated-token cache is per snapshot.
/// </summary>
internal sealed class JwtValidatorFactory(ILoggerFactory loggers, TimeProvider time, AuthenticationMetrics metrics)
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5), UseProxy = false })
    {
        Timeout = TimeSpan.FromSeconds(10),
    };

    public JwtValidator Create(IdentityProviderOptions options, RuntimeObjects runtime)
    {
        var key = $"{options.Name}|{options.Issuer}|{options.KeyRefresh}|{options.UnknownKeyCooldown}";
        var keys = runtime.GetOrCreate("oidc-signing-keys", key, () => new OidcSigningKeys(options, Http, time, loggers.CreateLogger<OidcSigningKeys>(), metrics));
        var introspector = options.Introspection is { } introspection
            ? new TokenIntrospector(options, introspection, Http, time, loggers.CreateLogger<TokenIntrospector>(), metrics)
            : null;
        return new JwtValidator(keys, options, time, introspector);
    }
}
