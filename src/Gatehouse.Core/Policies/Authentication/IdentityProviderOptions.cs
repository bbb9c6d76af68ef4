using Gatehouse.Configuration;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// <c>identityProviders: { corp: { issuer, audiences, algorithms } }</c>: an OpenID Connect issuer whose JWT
/// access tokens routes accept (<c>auth: { providers: [corp] }</c>). Keys come from its discovery document and JWKS.
/// </summary>
public sealed record IdentityProviderOptions : ConfigSection
{
    internal static readonly string[] Keys = ["issuer", "audiences", "algorithms", "clockSkew", "keyRefresh", "unknownKeyCooldown", "introspection", "types"];

    internal static readonly string[] IntrospectionKeys = ["clientId", "clientSecret", "cacheFor", "negativeCacheFor"];

    internal static readonly HashSet<string> AsymmetricAlgorithms = new(StringComparer.Ordinal)
    {
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
    };

    public required string Name { get; init; }

    /// <summary>Discovery is fetched from <c>issuer + /.well-known/openid-configuration</c>; tokens must carry this <c>iss</c>.</summary>
    public required string Issuer { get; init; }

    /// <summary>Accepted <c>aud</c> values; at least one.</summary>
    public IReadOnlyList<string> Audiences { get; init; } = [];

    /// <summary>Accepted signing algorithms. Default RS256, ES256, PS256. Never <c>none</c>, never HMAC.</summary>
    public IReadOnlyList<string> Algorithms { get; init; } = ["RS256", "ES256", "PS256"];

    /// <summary>Leeway for <c>exp</c> and <c>nbf</c>. Default 30s.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the JWKS is refetched; also the longest a key removed from the JWKS keeps validating. Default 60s.</summary>
    public TimeSpan KeyRefresh { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Least time between two refetches caused by a token with an unknown <c>kid</c>. Default 5s.</summary>
    public TimeSpan UnknownKeyCooldown { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Accepted JWT <c>typ</c> header values, e.g. <c>[at+jwt]</c> (RFC 9068). Default: any.</summary>
    public IReadOnlyList<string> Types { get; init; } = [];

    /// <summary>RFC 7662 introspection for opaque tokens, or null. The endpoint comes from the discovery document.</summary>
    public IntrospectionOptions? Introspection { get; init; }

    internal static IdentityProviderOptions? Read(string name, ConfigNodeReader r)
    {
        var issuer = r.String("issuer");
        if (issuer is null)
        {
            r.Context.Diagnostics.Error(r.Position, $"identityProviders.{name} needs an 'issuer'");
            return null;
        }

        var defaults = new IdentityProviderOptions { Name = name, Issuer = issuer };
        return defaults with
        {
            Position = r.Position,
            KeyPositions = r.KeyPositions,
            Audiences = r.StringList("audiences") ?? [],
            Algorithms = r.StringList("algorithms") ?? defaults.Algorithms,
            ClockSkew = r.Duration("clockSkew") ?? defaults.ClockSkew,
            KeyRefresh = r.Duration("keyRefresh") ?? defaults.KeyRefresh,
            UnknownKeyCooldown = r.Duration("unknownKeyCooldown") ?? defaults.UnknownKeyCooldown,
            Introspection = r.Mapping("introspection", IntrospectionKeys) is { } i ? IntrospectionOptions.Read(i) : null,
            Types = r.StringList("types") ?? [],
        };
    }

    internal static void Validate(IdentityProviderOptions options, ConfigDiagnostics diagnostics)
    {
        var where = $"identityProviders.{options.Name}";
        if (!Uri.TryCreate(options.Issuer, UriKind.Absolute, out var issuer) || issuer.Scheme is not ("http" or "https"))
        {
            diagnostics.Error(options.PositionOf("issuer"), $"{where}.issuer '{options.Issuer}' must be an absolute http(s) URL");
        }

        if (options.Audiences.Count == 0)
        {
            diagnostics.Error(options.Position, $"{where} needs 'audiences': a token for another API must not be accepted here");
        }

        if (options.Introspection is { } introspection && (introspection.ClientId.Length == 0 || introspection.ClientSecret.Length == 0))
        {
            diagnostics.Error(introspection.Position, $"{where}.introspection needs 'clientId' and 'clientSecret' (RFC 7662 requires the gateway to authenticate)");
        }

        foreach (var algorithm in options.Algorithms)
        {
            if (!AsymmetricAlgorithms.Contains(algorithm))
            {
                diagnostics.Error(options.PositionOf("algorithms"), $"{where}.algorithms: '{algorithm}' is not allowed (use {string.Join(", ", AsymmetricAlgorithms)}; never none or HMAC)");
            }
        }
    }
}

/// <summary><c>introspection: { clientId, clientSecret }</c>: how the gateway asks the issuer about opaque tokens.</summary>
public sealed record IntrospectionOptions : ConfigSection
{
    public string ClientId { get; init; } = "";

    public string ClientSecret { get; init; } = "";

    /// <summary>Longest an active answer is reused (never past the token's <c>exp</c>). Default 60s.</summary>
    public TimeSpan CacheFor { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an inactive answer is reused. Default 10s.</summary>
    public TimeSpan NegativeCacheFor { get; init; } = TimeSpan.FromSeconds(10);

    // The secret must never reach a log line or an exception message.
    protected override bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("ClientId = ").Append(ClientId).Append(", ClientSecret = ***");
        return true;
    }

    internal static IntrospectionOptions Read(ConfigNodeReader r) => new()
    {
        Position = r.Position,
        KeyPositions = r.KeyPositions,
        ClientId = r.String("clientId") ?? "",
        ClientSecret = r.String("clientSecret") ?? "",
        CacheFor = r.Duration("cacheFor") ?? TimeSpan.FromSeconds(60),
        NegativeCacheFor = r.Duration("negativeCacheFor") ?? TimeSpan.FromSeconds(10),
    };
}
