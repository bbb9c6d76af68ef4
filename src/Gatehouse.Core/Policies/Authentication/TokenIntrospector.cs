using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// RFC 7662 token introspection for opaque tokens. The gateway authenticates to the endpoint (HTTP Basic with its
/// client id and secret, form-encoded as RFC 6749 2.3.1 asks), accepts only <c>active: true</c> answers whose
/// <c>aud</c> (when present) is one of the provider's audiences, caches active answers until the token's
/// <c>exp</c> (at most <c>cacheFor</c>) and inactive ones for <c>negativeCacheFor</c>. An unreachable or failing
/// endpoint is <see cref="JwtValidator.Outcome.KeysUnavailable"/>: the request gets 503, never through.
/// </summary>
internal sealed partial class TokenIntrospector(IdentityProviderOptions options, IntrospectionOptions introspection, HttpClient http, TimeProvider time, ILogger logger, AuthenticationMetrics metrics)
{
    /// <summary>The <see cref="Caller.Source"/> of its callers: provider name and issuer.</summary>
    private readonly string _callerSource = options.Name + " " + options.Issuer;

    private readonly ConcurrentDictionary<string, (Caller? Caller, DateTimeOffset Until)> _answers = new(StringComparer.Ordinal);
    private string? _endpoint;

    public async ValueTask<(JwtValidator.Outcome Outcome, Caller? Caller)> IntrospectAsync(string token, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_answers.TryGetValue(token, out var cached) && cached.Until > now)
        {
            return (cached.Caller is null ? JwtValidator.Outcome.Invalid : JwtValidator.Outcome.Valid, cached.Caller);
        }

        JsonDocument answer;
        try
        {
            _endpoint ??= await DiscoverAsync(cancellationToken);
            using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint)
            {
                Content = new FormUrlEncodedContent([new("token", token), new("token_type_hint", "access_token")]),
            };
            var credentials = Uri.EscapeDataString(introspection.ClientId) + ":" + Uri.EscapeDataString(introspection.ClientSecret);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
            using var response = await http.SendAsync(request, cancellationToken);
            response.EnsureSuccessStatusCode();
            answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException or InvalidOperationException or KeyNotFoundException)
        {
            LogIntrospectionFailed(logger, options.Name, e);
            metrics.IdentityProviderFailed(options.Name, "introspection");
            return (JwtValidator.Outcome.KeysUnavailable, null);
        }

        using (answer)
        {
            var root = answer.RootElement;
            if (!IsActive(root, now, options.ClockSkew, options.Audiences, out var expires))
            {
                Remember(token, null, now + introspection.NegativeCacheFor);
                return (JwtValidator.Outcome.Invalid, null);
            }

            var claims = new List<Claim>();
            foreach (var property in root.EnumerateObject())
            {
                if (property.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                {
                    claims.Add(new Claim(property.Name, property.Value.ToString()));
                }
                else if (property.Value.ValueKind is JsonValueKind.Array or JsonValueKind.Object)
                {
                    claims.Add(new Claim(property.Name, property.Value.GetRawText(), "JSON"));
                }
            }

            var caller = new Caller(new ClaimsIdentity(claims, "introspection", "sub", "roles"), _callerSource);
            var until = now + introspection.CacheFor;
            if (expires < until)
            {
                until = expires.Value;
            }

            Remember(token, caller, until);
            return (JwtValidator.Outcome.Valid, caller);
        }
    }

    /// <summary>
    /// The answer lets the token through: <c>active</c> is JSON <c>true</c>; <c>exp</c>, when present, is a number
    /// later than now less the clock skew, and <c>nbf</c> one no later than now plus the skew (an IdP may answer
    /// <c>active</c> from its own clock or data; a time that is not a number is not believed); and <c>aud</c>, when
    /// present, names one of <paramref name="audiences"/> (a string, or an array in which only strings can match).
    /// <paramref name="expires"/> is the <c>exp</c> read, for the cache. Never throws on the answer's shape.
    /// </summary>
    internal static bool IsActive(JsonElement root, DateTimeOffset now, TimeSpan skew, IReadOnlyList<string> audiences, out DateTimeOffset? expires)
    {
        expires = null;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("active", out var active) || active.ValueKind != JsonValueKind.True)
        {
            return false;
        }

        if (root.TryGetProperty("exp", out var exp))
        {
            if (!TryReadTime(exp, out var expiry) || expiry <= now - skew)
            {
                return false;
            }

            expires = expiry;
        }

        if (root.TryGetProperty("nbf", out var nbf) && (!TryReadTime(nbf, out var notBefore) || notBefore > now + skew))
        {
            return false;
        }

        return AudienceMatches(root, audiences);
    }

    private static bool AudienceMatches(JsonElement root, IReadOnlyList<string> audiences)
    {
        if (!root.TryGetProperty("aud", out var aud))
        {
            return true;
        }

        if (aud.ValueKind == JsonValueKind.String)
        {
            return audiences.Contains(aud.GetString()!);
        }

        if (aud.ValueKind == JsonValueKind.Array)
        {
            foreach (var value in aud.EnumerateArray())
            {
                if (value.ValueKind == JsonValueKind.String && audiences.Contains(value.GetString()!))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>A NumericDate (RFC 7519 2: seconds since the epoch, possibly fractional), clamped to what <see cref="DateTimeOffset"/> holds.</summary>
    private static bool TryReadTime(JsonElement value, out DateTimeOffset time)
    {
        time = default;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var seconds) || !double.IsFinite(seconds))
        {
            return false;
        }

        const double MaxSeconds = 253_402_300_799; // 9999-12-31T23:59:59Z
        time = seconds <= 0 ? DateTimeOffset.UnixEpoch : seconds >= MaxSeconds ? DateTimeOffset.MaxValue : DateTimeOffset.UnixEpoch.AddSeconds(seconds);
        return true;
    }

    private void Remember(string token, Caller? caller, DateTimeOffset until)
    {
        if (_answers.Count >= JwtValidator.MaxCachedTokens)
        {
            _answers.Clear();
        }

        _answers[token] = (caller, until);
    }

    private async Task<string> DiscoverAsync(CancellationToken cancellationToken)
    {
        using var discovery = JsonDocument.Parse(await http.GetStringAsync(options.Issuer.TrimEnd('/') + "/.well-known/openid-configuration", cancellationToken));
        return discovery.RootElement.GetProperty("introspection_endpoint").GetString()
            ?? throw new InvalidOperationException("the discovery document has no introspection_endpoint");
    }

    [LoggerMessage(EventId = Observability.LogEvents.IntrospectionFailed, Level = LogLevel.Warning, Message = "Token introspection at identity provider {Provider} failed; requests with opaque tokens get 503")]
    private static partial void LogIntrospectionFailed(ILogger logger, string provider, Exception exception);
}
