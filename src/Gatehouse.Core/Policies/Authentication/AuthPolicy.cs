namespace Gatehouse.Policies.Authentication;

/// <summary>A route's compiled authentication: anonymous, or the providers to try in order.</summary>
internal sealed class AuthPolicy(bool anonymous, bool apiKey)
{
    public static readonly AuthPolicy AnonymousPolicy = new(anonymous: true, apiKey: false);

    public bool Anonymous { get; } = anonymous;

    public bool ApiKey { get; } = apiKey;

    public static AuthPolicy? Compile(AuthOptions? options) => options switch
    {
        null => null,
        { Anonymous: true } => AnonymousPolicy,
        _ => new AuthPolicy(anonymous: false, apiKey: options.Providers.Contains(AuthOptions.ApiKeyProvider)),
    };
}
