using Gatehouse.Configuration;

namespace Gatehouse.Policies.Authentication;

/// <summary>A route's compiled authentication: anonymous, or the providers to try in order and the scopes required.</summary>
internal sealed class AuthPolicy(bool anonymous, bool apiKey, IdentityProviderOptions[] jwtProviders, string[] scopes, AuthOptions? options = null)
{
    public static readonly AuthPolicy AnonymousPolicy = new(anonymous: true, apiKey: false, [], []);

    private readonly (string Path, string[] Values)[] _claims = options?.Claims.Select(c => (c.Name, c.Values.ToArray())).ToArray() ?? [];
    private readonly string[] _roles = options?.Roles.ToArray() ?? [];
    private readonly bool _allRoles = options?.RequireAllRoles ?? false;
    private readonly string _rolesClaim = options?.RolesClaim ?? "roles";

    public bool StripAuthorization { get; } = options?.StripAuthorization ?? false;

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
            options.Scopes.ToArray(),
            options),
    };

    /// <summary>The first claim or role condition the caller fails, described for the problem detail; null when all hold.</summary>
    public string? FailedCondition(Caller caller)
    {
        foreach (var (path, accepted) in _claims)
        {
            var values = caller.ValuesAt(path);
            if (!values.Any(v => accepted.Contains(v, StringComparer.Ordinal)))
            {
                return $"claim '{path}' must be {string.Join(" or ", accepted)}";
            }
        }

        if (_roles.Length > 0)
        {
            var held = caller.ValuesAt(_rolesClaim);
            var ok = _allRoles ? _roles.All(r => held.Contains(r, StringComparer.Ordinal)) : _roles.Any(r => held.Contains(r, StringComparer.Ordinal));
            if (!ok)
            {
                return $"{(_allRoles ? "all" : "one")} of the roles {string.Join(", ", _roles)} is required";
            }
        }

        return null;
    }
}
