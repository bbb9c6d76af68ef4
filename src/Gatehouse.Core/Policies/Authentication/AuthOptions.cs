using Gatehouse.Configuration;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// <c>auth: { providers: [apiKey] }</c> on a route (or at the top level as the default for every route), or
/// <c>auth: anonymous</c> to opt a route out of the default. A request must be authenticated by one of the
/// providers (<c>apiKey</c>, or names from <c>identityProviders</c>; an API key is checked first, then the identity
/// providers in the order listed), else 401; then it must hold the route's scopes (else 403 insufficient_scope),
/// claims and roles (else 403 access-denied).
/// </summary>
public sealed record AuthOptions : ConfigSection
{
    internal static readonly string[] Keys = ["providers", "scopes", "claims", "roles", "rolesMatch", "rolesClaim", "stripAuthorization"];

    public const string ApiKeyProvider = "apiKey";

    /// <summary>True for <c>auth: anonymous</c>.</summary>
    public bool Anonymous { get; init; }

    public IReadOnlyList<string> Providers { get; init; } = [];

    /// <summary>Scopes the caller must all have (from <c>scope</c>, space-delimited, or <c>scp</c>); else 403 insufficient_scope.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>Claim conditions, all required; each lists accepted values (any of). Paths may be nested: <c>realm_access.roles</c>.</summary>
    public IReadOnlyList<ValueMatchOptions> Claims { get; init; } = [];

    /// <summary>Roles, read from <see cref="RolesClaim"/>; the caller needs any of them, or all with <c>rolesMatch: all</c>.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    public bool RequireAllRoles { get; init; }

    /// <summary>Where roles are read. Default <c>roles</c>; e.g. <c>realm_access.roles</c> for Keycloak.</summary>
    public string RolesClaim { get; init; } = "roles";

    /// <summary>Remove the caller's <c>Authorization</c> header before forwarding (the backend trusts forwardClaims instead). Default false.</summary>
    public bool StripAuthorization { get; init; }

    internal static AuthOptions? Read(ConfigNodeReader parent, string key)
    {
        var node = parent.Node(key);
        if (node is YamlDotNet.RepresentationModel.YamlScalarNode)
        {
            var text = parent.String(key);
            if (text == "anonymous")
            {
                return new AuthOptions { Anonymous = true, Position = parent.At(key) };
            }

            parent.Error(key, $"{parent.Section}.{key} must be 'anonymous' or a mapping such as {{ providers: [apiKey] }}, not '{text}'");
            return null;
        }

        var reader = parent.Mapping(key, Keys);
        return reader is null ? null : new AuthOptions
        {
            Position = reader.Position,
            KeyPositions = reader.KeyPositions,
            Providers = reader.StringList("providers") ?? [],
            Scopes = reader.StringList("scopes") ?? [],
            Claims = ReadClaims(reader),
            Roles = reader.StringList("roles") ?? [],
            RequireAllRoles = reader.Enum("rolesMatch", RolesMatchNames) ?? false,
            RolesClaim = reader.String("rolesClaim") ?? "roles",
            StripAuthorization = reader.Bool("stripAuthorization") ?? false,
        };
    }

    private static readonly Dictionary<string, bool> RolesMatchNames = new() { ["any"] = false, ["all"] = true };

    private static List<ValueMatchOptions> ReadClaims(ConfigNodeReader reader)
    {
        var result = new List<ValueMatchOptions>();
        foreach (var (name, values) in ReadClaimMap(reader))
        {
            result.Add(new ValueMatchOptions { Name = name, Values = values, Position = reader.At("claims") });
        }

        return result;
    }

    private static IEnumerable<(string Name, IReadOnlyList<string> Values)> ReadClaimMap(ConfigNodeReader reader)
    {
        if (reader.Node("claims") is not YamlDotNet.RepresentationModel.YamlMappingNode mapping)
        {
            if (reader.Has("claims"))
            {
                reader.Error("claims", $"{reader.Section}.claims must map claim names (or paths such as realm_access.roles) to a value or a list of values");
            }

            yield break;
        }

        foreach (var (k, v) in mapping.Children)
        {
            var name = reader.Context.ScalarString(k, $"{reader.Section}.claims") ?? "";
            IReadOnlyList<string> values = v switch
            {
                YamlDotNet.RepresentationModel.YamlSequenceNode seq => seq.Children.Select(c => reader.Context.ScalarString(c, name) ?? "").ToList(),
                _ => [reader.Context.ScalarString(v, name) ?? ""],
            };
            yield return (name, values);
        }
    }

    internal static void Validate(AuthOptions options, string where, ConfigDiagnostics diagnostics, IReadOnlyCollection<string> identityProviders)
    {
        if (options.Anonymous)
        {
            return;
        }

        if (options.Providers.Count == 0)
        {
            diagnostics.Error(options.Position, $"{where} needs 'providers', e.g. providers: [apiKey]");
        }

        foreach (var provider in options.Providers)
        {
            if (provider != ApiKeyProvider && !identityProviders.Contains(provider))
            {
                diagnostics.Error(options.PositionOf("providers"), $"{where}: unknown provider '{provider}' (available: {string.Join(", ", identityProviders.Prepend(ApiKeyProvider))})");
            }
        }
    }
}

/// <summary><c>consumers: { mobile-app: { apiKeys: ["sha256:…"] } }</c>: the known callers and their hashed keys.</summary>
public sealed record ConsumerOptions : ConfigSection
{
    internal static readonly string[] Keys = ["apiKeys"];

    public required string Name { get; init; }

    /// <summary>SHA-256 of each key, as <c>sha256:</c> + 64 hex digits (<c>printf %s KEY | sha256sum</c>). Keys are never stored in clear.</summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];
}

/// <summary><c>apiKey: { header: X-Api-Key, queryParameter: api_key }</c>: where API keys are read.</summary>
public sealed record ApiKeyOptions : ConfigSection
{
    internal static readonly string[] Keys = ["header", "queryParameter"];

    /// <summary>Default <c>X-Api-Key</c>. Always stripped before forwarding.</summary>
    public string Header { get; init; } = "X-Api-Key";

    /// <summary>Off by default: keys in URLs end up in logs and browser history.</summary>
    public string? QueryParameter { get; init; }
}
