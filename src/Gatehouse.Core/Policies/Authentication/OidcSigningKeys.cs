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
/// <para>
/// A slow IdP must not slow requests down (security review M8: three new tokens behind a hanging IdP took 10, 20 and
/// 30 s, queued on a lock): keys that are due are still returned at once while one background fetch, shared by
/// everyone (single flight), replaces them; only a request that has no keys at all, or needs a new <c>kid</c>, waits,
/// and then for that same fetch, never in a queue. A failed fetch backs off (1 s, doubling, at most 30 s) before the
/// next one; with no keys in hand during a back-off, requests get 503 at once.
/// </para>
/// </summary>
internal sealed partial class OidcSigningKeys(IdentityProviderOptions options, HttpClient http, TimeProvider time, ILogger logger, AuthenticationMetrics? metrics = null) : IDisposable
{
    internal static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _disposed = new();
    private volatile KeySet? _keys;
    private Task<bool>? _fetch;
    private int _failures;
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;
    private long _lastUnknownKeyFetch = long.MinValue;

    public IdentityProviderOptions Options { get; } = options;

    /// <summary>The fetch in flight, if any (for tests).</summary>
    internal Task<bool>? FetchInFlight => _fetch;

    /// <summary>The keys in force (a due refresh starts in the background); fetched first only when there are none.</summary>
    public ValueTask<KeySet?> GetAsync(CancellationToken cancellationToken)
    {
        var keys = _keys;
        var now = time.GetUtcNow();
        if (keys is not null)
        {
            if (now - keys.FetchedAt >= Options.KeyRefresh && now >= RetryAt)
            {
                _ = StartFetch();
            }

            return new(keys);
        }

        var fetch = now >= RetryAt ? StartFetch() : _fetch;
        return fetch is null ? new((KeySet?)null) : WaitForKeysAsync(fetch, cancellationToken);
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

        return await StartFetch().WaitAsync(cancellationToken);
    }

    private DateTimeOffset RetryAt
    {
        get
        {
            lock (_gate)
            {
                return _retryAt;
            }
        }
    }

    private async ValueTask<KeySet?> WaitForKeysAsync(Task<bool> fetch, CancellationToken cancellationToken)
    {
        await fetch.WaitAsync(cancellationToken);
        return _keys;
    }

    /// <summary>The one fetch in flight, started if there is none. It runs on the pool, never on a request's token.</summary>
    private Task<bool> StartFetch()
    {
        lock (_gate)
        {
            // Task.Run: the fetch cannot complete (and clear _fetch) before it is stored here.
            return _fetch ??= Task.Run(FetchAsync);
        }
    }

    private async Task<bool> FetchAsync()
    {
        var succeeded = false;
        try
        {
            var cancellationToken = _disposed.Token;
            var discoveryUrl = Options.Issuer.TrimEnd('/') + "/.well-known/openid-configuration";
            using var discovery = JsonDocument.Parse(await http.GetStringAsync(discoveryUrl, cancellationToken));
            var jwksUri = discovery.RootElement.GetProperty("jwks_uri").GetString()
                ?? throw new InvalidOperationException("the discovery document has no jwks_uri");
            var jwks = new JsonWebKeySet(await http.GetStringAsync(jwksUri, cancellationToken));
            _keys = new KeySet(jwks.GetSigningKeys().ToArray(), time.GetUtcNow());
            succeeded = true;
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or InvalidOperationException or ArgumentException or OperationCanceledException or KeyNotFoundException)
        {
            if (!_disposed.IsCancellationRequested)
            {
                LogFetchFailed(logger, Options.Name, Options.Issuer, e);
                metrics?.IdentityProviderFailed(Options.Name, "keys");
            }

            return false;
        }
        finally
        {
            lock (_gate)
            {
                if (succeeded)
                {
                    _failures = 0;
                    _retryAt = DateTimeOffset.MinValue;
                }
                else
                {
                    var backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, FirstBackoff.Ticks << Math.Min(_failures, 16)));
                    _failures++;
                    _retryAt = time.GetUtcNow() + backoff;
                }

                _fetch = null;
            }
        }
    }

    public void Dispose()
    {
        // Stops a fetch in flight; requests still waiting on it get no keys (503), as when the IdP is down.
        // Not disposed: a fetch starting after this still reads its token (a source without timers holds nothing).
        _disposed.Cancel();
    }

    /// <summary>One fetched JWKS; due for a refresh at <see cref="FetchedAt"/> + <c>keyRefresh</c>.</summary>
    internal sealed record KeySet(IReadOnlyList<SecurityKey> Keys, DateTimeOffset FetchedAt);

    [LoggerMessage(EventId = Observability.LogEvents.SigningKeysFetchFailed, Level = LogLevel.Warning, Message = "Fetching the signing keys of identity provider {Provider} ({Issuer}) failed; the keys in hand keep validating")]
    private static partial void LogFetchFailed(ILogger logger, string provider, string issuer, Exception exception);
}
