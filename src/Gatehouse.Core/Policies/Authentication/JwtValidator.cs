using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// Validates a bearer JWT against one identity provider: signature, algorithm allow-list, iss, aud, exp, nbf.
/// A validated token is remembered (keyed by the token itself) until its <c>exp</c> or until the keys that validated
/// it are due for a refresh (at least a second), whichever is sooner, so a key removed from the JWKS stops validating
/// within about <c>keyRefresh</c> + 1 s: measured in
/// bench/, RSA verification on every request cost 60% of the throughput of a JWT route. The cache is bounded:
/// when full it is emptied (only valid tokens get in, so filling it takes that many valid tokens).
/// </summary>
internal sealed class JwtValidator(OidcSigningKeys keys, IdentityProviderOptions options, TimeProvider time, TokenIntrospector? introspector)
{
    internal const int MaxCachedTokens = 10_000;

    private static readonly TimeSpan StaleKeysCacheFor = TimeSpan.FromSeconds(1);

    /// <summary>The identity provider's name, for logs.</summary>
    public string Provider => options.Name;

    /// <summary>The <see cref="Caller.Source"/> of its callers: provider name and issuer.</summary>
    private readonly string _callerSource = options.Name + " " + options.Issuer;

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };
    private readonly ConcurrentDictionary<string, (Caller Caller, DateTimeOffset Until)> _validated = new(StringComparer.Ordinal);

    public enum Outcome
    {
        Valid,
        Invalid,
        KeysUnavailable,
    }

    /// <summary>The caller of an already validated, unexpired token, looked up without copying the token out of its header.</summary>
    public Caller? TryGetCached(ReadOnlySpan<char> token)
    {
        var lookup = _validated.GetAlternateLookup<ReadOnlySpan<char>>();
        return lookup.TryGetValue(token, out var cached) && cached.Until > time.GetUtcNow() ? cached.Caller : null;
    }

    public async ValueTask<(Outcome Outcome, Caller? Caller, string? Reason)> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_validated.TryGetValue(token, out var cached))
        {
            if (cached.Until > now)
            {
                return (Outcome.Valid, cached.Caller, null);
            }

            _validated.TryRemove(token, out _);
        }

        // Not a JWS (three dot-separated parts): an opaque token, which only introspection can judge.
        if (token.Count(c => c == '.') != 2)
        {
            if (introspector is null)
            {
                return (Outcome.Invalid, null, "not a JWT, and the provider has no introspection configured");
            }

            var (introspected, introspectedCaller) = await introspector.IntrospectAsync(token, cancellationToken);
            return (introspected, introspectedCaller, introspected == Outcome.Invalid ? "inactive" : null);
        }

        // RFC 7515 4.1.11: a recipient must refuse a token whose crit names an extension it does not understand, and
        // Gatehouse understands none (IdentityModel ignores crit). Read before any key is fetched or signature checked.
        if (HasCriticalHeader(token.AsSpan(0, token.IndexOf('.'))))
        {
            return (Outcome.Invalid, null, "crit header (no JWS extensions are supported), or a header that is not JSON");
        }

        var signingKeys = await keys.GetAsync(cancellationToken);
        if (signingKeys is null)
        {
            return (Outcome.KeysUnavailable, null, "the identity provider's keys cannot be fetched");
        }

        var result = await Handler.ValidateTokenAsync(token, Parameters(signingKeys.Keys));
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException && await keys.RefreshForUnknownKeyAsync(cancellationToken))
        {
            // A freshly rotated key: its first token validates, no 401.
            signingKeys = await keys.GetAsync(cancellationToken) ?? signingKeys;
            result = await Handler.ValidateTokenAsync(token, Parameters(signingKeys.Keys));
        }

        if (!result.IsValid)
        {
            return (Outcome.Invalid, null, result.Exception?.GetType().Name);
        }

        // Not past the keys' own refresh: keys that are due are still used while they are refetched in the background,
        // and a token they validated must not outlive them by another keyRefresh (review I1). At least a second, though
        // (or keyRefresh if shorter): with the IdP down the keys stay due, and every request would verify RSA again.
        var floor = now + (options.KeyRefresh < StaleKeysCacheFor ? options.KeyRefresh : StaleKeysCacheFor);
        var until = signingKeys.FetchedAt + options.KeyRefresh;
        until = until < floor ? floor : until > now + options.KeyRefresh ? now + options.KeyRefresh : until;
        if (result.SecurityToken is JsonWebToken { ValidTo: var validTo } && validTo != DateTime.MinValue && validTo < until.UtcDateTime)
        {
            until = new DateTimeOffset(validTo, TimeSpan.Zero);
        }

        if (_validated.Count >= MaxCachedTokens)
        {
            _validated.Clear();
        }

        var caller = new Caller(result.ClaimsIdentity, _callerSource);
        _validated[token] = (caller, until);
        return (Outcome.Valid, caller, null);
    }

    /// <summary>
    /// The protected header (base64url JSON) has a top-level <c>crit</c> member, however spelled in JSON
    /// (<c>"cr\u0069t"</c> too) and whatever its value. A header that is not base64url JSON counts as critical: the
    /// token is refused either way, and the handler would refuse it anyway.
    /// </summary>
    internal static bool HasCriticalHeader(ReadOnlySpan<char> encodedHeader)
    {
        byte[] json;
        try
        {
            json = System.Buffers.Text.Base64Url.DecodeFromChars(encodedHeader);
        }
        catch (FormatException)
        {
            return true;
        }

        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != System.Text.Json.JsonTokenType.StartObject)
            {
                return true;
            }

            while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("crit"u8))
                {
                    return true;
                }

                reader.Skip();
            }

            return false;
        }
        catch (System.Text.Json.JsonException)
        {
            return true;
        }
    }

    private TokenValidationParameters Parameters(IReadOnlyList<SecurityKey> signingKeys) => new()
    {
        ValidIssuer = options.Issuer,
        ValidAudiences = options.Audiences,
        ValidAlgorithms = options.Algorithms,
        IssuerSigningKeys = signingKeys,
        ClockSkew = options.ClockSkew,
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateIssuerSigningKey = true,
        TryAllIssuerSigningKeys = false,
        NameClaimType = "sub",
        ValidTypes = options.Types.Count > 0 ? options.Types : null,
    };
}
