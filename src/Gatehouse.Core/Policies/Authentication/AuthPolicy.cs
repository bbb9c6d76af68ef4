namespace Gatehouse.Policies.Authentication;

/// <summary>A route's compiled authentication: anonymous, or the providers to try in order and the scopes required.</summary>
internal sealed class AuthPolicy(bool anonymous, bool apiKey, IdentityProviderOptions[] jwtProviders, string[] scopes)
{
    public static readonly AuthPolicy AnonymousPolicy = new(anonymous: true, apiKey: false, [], []);

    public bool Anonymous { get; } = anonymous;

    public bool ApiKey { get; } = apiKey;

    public IdentityProviderOptions[] JwtProviders { get; } = jwtProviders;

    public string[] Scopes { get; } = scopes;

    public static AuthPolicy? Compile(AuthOptions? options, IReadOnlyList<IdentityProviderOptions> providers) => options switch
    {
        null => null,
        { Anonymous: true } => AnonymousPolicy,
        _ => new AuthPolicy(
            anonymous: false,
            apiKey: options.Providers.Contains(AuthOptions.ApiKeyProvider),
            options.Providers.Select(p => providers.FirstOrDefault(i => i.Name == p)).OfType<IdentityProviderOptions>().ToArray(),
            options.Scopes.ToArray()),
    };
}
