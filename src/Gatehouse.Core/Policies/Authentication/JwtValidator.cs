using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Policies.Authentication;

/// <summary>Validates a bearer JWT against one identity provider: signature, algorithm allow-list, iss, aud, exp, nbf.</summary>
internal sealed class JwtValidator(OidcSigningKeys keys, IdentityProviderOptions options)
{
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public enum Outcome
    {
        Valid,
        Invalid,
        KeysUnavailable,
    }

    public async ValueTask<(Outcome Outcome, ClaimsIdentity? Identity, string? Reason)> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var signingKeys = await keys.GetAsync(cancellationToken);
        if (signingKeys is null)
        {
            return (Outcome.KeysUnavailable, null, "the identity provider's keys cannot be fetched");
        }

        var result = await Handler.ValidateTokenAsync(token, Parameters(signingKeys));
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException && await keys.RefreshForUnknownKeyAsync(cancellationToken))
        {
            // A freshly rotated key: its first token validates, no 401.
            signingKeys = await keys.GetAsync(cancellationToken) ?? signingKeys;
            result = await Handler.ValidateTokenAsync(token, Parameters(signingKeys));
        }

        return result.IsValid
            ? (Outcome.Valid, result.ClaimsIdentity, null)
            : (Outcome.Invalid, null, result.Exception?.GetType().Name);
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
    };
}
