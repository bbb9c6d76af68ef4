using Gatehouse.Configuration;

namespace Gatehouse.Policies.Authentication;

/// <summary>Consumers and their keys, identity providers, the default and each route's <c>auth</c>, <c>apiKey</c> and <c>forwardClaims</c>.</summary>
internal sealed class IdentityOptionsValidator : IGatewayOptionsValidator
{
    public void Validate(GatewayOptions options, ConfigDiagnostics diagnostics)
    {
        var owners = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var consumer in options.Consumers)
        {
            foreach (var key in consumer.ApiKeys)
            {
                if (ApiKeyCredentials.Validate(key) is { } problem)
                {
                    diagnostics.Error(consumer.PositionOf("apiKeys"), $"consumers.{consumer.Name}.apiKeys: '{(key.Length > 12 ? key[..12] + "…" : key)}' {problem}");
                }
                else if (!owners.TryAdd(key, consumer.Name))
                {
                    diagnostics.Error(consumer.PositionOf("apiKeys"), $"consumers.{consumer.Name}.apiKeys: the same key is already given to consumer '{owners[key]}'");
                }
            }
        }

        foreach (var provider in options.IdentityProviders)
        {
            IdentityProviderOptions.Validate(provider, diagnostics);
            if (provider.Name == AuthOptions.ApiKeyProvider)
            {
                diagnostics.Error(provider.Position, $"identityProviders: '{AuthOptions.ApiKeyProvider}' is the name of the built-in API-key provider; choose another");
            }
        }

        var providers = options.IdentityProviders.Select(p => p.Name).ToList();
        if (options.Auth is { } auth)
        {
            AuthOptions.Validate(auth, "auth", diagnostics, providers);
        }

        if (options.ApiKey is { } apiKey && !ValueParsers.IsHeaderName(apiKey.Header))
        {
            diagnostics.Error(apiKey.PositionOf("header"), $"apiKey.header: '{apiKey.Header}' is not a valid header name");
        }

        foreach (var route in options.Routes)
        {
            if (route.Auth is { } routeAuth)
            {
                AuthOptions.Validate(routeAuth, $"route '{route.Name}' auth", diagnostics, providers);
            }

            foreach (var (claim, header) in route.ForwardClaims)
            {
                if (!ValueParsers.IsHeaderName(header))
                {
                    diagnostics.Error(route.PositionOf("forwardClaims"), $"route '{route.Name}' forwardClaims: '{header}' (for claim '{claim}') is not a valid header name");
                }
            }
        }
    }
}
