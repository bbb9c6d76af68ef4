using Gatehouse.Configuration;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// A route's compiled authentication: anonymous, or the providers to try in order (their validators compiled in, so
/// nothing is looked up per request) and the scopes, claims and roles required.
/// </summary>
internal sealed class AuthPolicy(bool anonymous, bool apiKey, JwtValidator[] jwtValidators, string[] scopes, AuthOptions? options = null)
{
    public static readonly AuthPolicy AnonymousPolicy = new(anonymous: true, apiKey: false, [], []);

    private readonly (string Path, string[] Values)[] _claims = options?.Claims.Select(c => (c.Name, c.Values.ToArray())).ToArray() ?? [];
    private readonly string[] _roles = options?.Roles.ToArray() ?? [];
    private readonly bool _allRoles = options?.RequireAllRoles ?? false;
    private readonly string _rolesClaim = options?.RolesClaim ?? "roles";

    public bool StripAuthorization { get; } = options?.StripAuthorization ?? false;

    public bool Anonymous { get; } = anonymous;

    public bool ApiKey { get; } = apiKey;

    /// <summary>One validator per JWT provider, in the route's order.</summary>
    public JwtValidator[] JwtValidators { get; } = jwtValidators;

    /// <summary>True when the route requires scopes, claims or roles: the authorization stage is built for it.</summary>
    public bool HasRequirements => Scopes.Length > 0 || _claims.Length > 0 || _roles.Length > 0;

    public string[] Scopes { get; } = scopes;

    public static AuthPolicy? Compile(AuthOptions? options, IReadOnlyList<IdentityProviderOptions> providers, Func<IdentityProviderOptions, JwtValidator> validators) => options switch
    {
        null => null,
        { Anonymous: true } => AnonymousPolicy,
        _ => new AuthPolicy(
            anonymous: false,
            apiKey: options.Providers.Contains(AuthOptions.ApiKeyProvider),
            options.Providers.Select(p => providers.FirstOrDefault(i => i.Name == p)).OfType<IdentityProviderOptions>().Select(validators).ToArray(),
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
