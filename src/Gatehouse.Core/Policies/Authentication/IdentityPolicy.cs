using Gatehouse.Configuration;

namespace Gatehouse.Policies.Authentication;

/// <summary>Everything identity-related compiled from one config: keys, the default auth, headers to strip.</summary>
internal sealed class IdentityPolicy
{
    public required ApiKeyOptions ApiKey { get; init; }

    public required ApiKeyCredentials ApiKeys { get; init; }

    public required AuthPolicy? DefaultAuth { get; init; }

    /// <summary>The API key header and every header a route's forwardClaims writes: never accepted from a client.</summary>
    public required string[] StrippedHeaders { get; init; }

    /// <summary>The API-key challenge of a 401 (RFC 9110 11.6.1), built once.</summary>
    public string WwwAuthenticate => field ??= $"ApiKey header=\"{ApiKey.Header}\"";

    /// <summary>Null when the config uses no identity feature at all, so the stage costs nothing.</summary>
    public static IdentityPolicy? Compile(GatewayOptions options, Func<IdentityProviderOptions, JwtValidator> validators)
    {
        var usesIdentity = options.Consumers.Count > 0 || options.Auth is not null || options.IdentityProviders.Count > 0
            || options.Routes.Any(r => r.Auth is not null || r.ForwardClaims.Count > 0);
        if (!usesIdentity)
        {
            return null;
        }

        var apiKey = options.ApiKey ?? new ApiKeyOptions();
        return new IdentityPolicy
        {
            ApiKey = apiKey,
            ApiKeys = new ApiKeyCredentials(options.Consumers),
            DefaultAuth = AuthPolicy.Compile(options.Auth, options.IdentityProviders, validators),
            StrippedHeaders = options.Routes.SelectMany(r => r.ForwardClaims.Select(f => f.Value))
                .Append(apiKey.Header).Distinct(StringComparer.OrdinalIgnoreCase).ToArray(),
        };
    }
}
