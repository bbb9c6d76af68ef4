using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// The signing keys of one issuer, from its discovery document and JWKS. Written by hand instead of JwtBearer's
/// ConfigurationManager because its refresh rules are what the issue measured failing: a new <c>kid</c> is only
/// fetched after a 401, a second rotation within five minutes gives 401s, and a removed key validates for up to an
/// hour. Here: an unknown <c>kid</c> triggers a refetch at once (at most once per cooldown, so random kids cannot
/// hammer the IdP); the JWKS is refetched every <c>keyRefresh</c>, which bounds how long a removed key validates;
/// when the IdP is down, the keys in hand keep validating and the failure is logged.
/// </summary>
internal sealed partial class OidcSigningKeys(IdentityProviderOptions options, HttpClient http, TimeProvider time, ILogger logger, AuthenticationMetrics? metrics = null) : IDisposable
{
    private readonly SemaphoreSlim _fetchGate = new(1, 1);
    private volatile KeySet? _keys;
    private long _lastUnknownKeyFetch = long.MinValue;

    public IdentityProviderOptions Options { get; } = options;

    /// <summary>The keys in force, fetching them first when there are none or they are due.</summary>
    public async ValueTask<IReadOnlyList<SecurityKey>?> GetAsync(CancellationToken cancellationToken)
    {
        var keys = _keys;
        if (keys is not null && time.GetUtcNow() - keys.FetchedAt < Options.KeyRefresh)
        {
            return keys.Keys;
        }

        await FetchAsync(force: false, cancellationToken);
        return _keys?.Keys;
    }

    /// <summary>Called for a token whose <c>kid</c> is not among the keys: refetch now, unless one did within the cooldown.</summary>
    public async ValueTask<bool> RefreshForUnknownKeyAsync(CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _lastUnknownKeyFetch);
        if (last != long.MinValue && time.GetElapsedTime(last, now) < Options.UnknownKeyCooldown)
        {
            return false;
        }

        if (Interlocked.CompareExchange(ref _lastUnknownKeyFetch, now, last) != last)
        {
            return false;
        }

        return await FetchAsync(force: true, cancellationToken);
    }

    private async Task<bool> FetchAsync(bool force, CancellationToken cancellationToken)
    {
        await _fetchGate.WaitAsync(cancellationToken);
        try
        {
            var current = _keys;
            if (!force && current is not null && time.GetUtcNow() - current.FetchedAt < Options.KeyRefresh)
            {
                return true;
            }

            var discoveryUrl = Options.Issuer.TrimEnd('/') + "/.well-known/openid-configuration";
            using var discovery = JsonDocument.Parse(await http.GetStringAsync(discoveryUrl, cancellationToken));
            var jwksUri = discovery.RootElement.GetProperty("jwks_uri").GetString()
                ?? throw new InvalidOperationException("the discovery document has no jwks_uri");
            var jwks = new JsonWebKeySet(await http.GetStringAsync(jwksUri, cancellationToken));
            _keys = new KeySet(jwks.GetSigningKeys().ToArray(), time.GetUtcNow());
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or InvalidOperationException or ArgumentException or TaskCanceledException or KeyNotFoundException)
        {
            LogFetchFailed(logger, Options.Name, Options.Issuer, e);
            metrics?.IdentityProviderFailed(Options.Name, "keys");
            return false;
        }
        finally
        {
            _fetchGate.Release();
        }
    }

    public void Dispose() => _fetchGate.Dispose();

    private sealed record KeySet(IReadOnlyList<SecurityKey> Keys, DateTimeOffset FetchedAt);

    [LoggerMessage(EventId = Observability.LogEvents.SigningKeysFetchFailed, Level = LogLevel.Warning, Message = "Fetching the signing keys of identity provider {Provider} ({Issuer}) failed; the keys in hand keep validating")]
    private static partial void LogFetchFailed(ILogger logger, string provider, string issuer, Exception exception);
}
