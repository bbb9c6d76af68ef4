using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// Signing keys per issuer, kept across reloads (a reload must not throw away keys in hand or refetch them all),
/// and one validator per provider config. Owned by the host; the authentication stage asks it per request.
/// </summary>
internal sealed class IdentityProviderRegistry(ILoggerFactory loggers, TimeProvider time, AuthenticationMetrics metrics) : IDisposable
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5), UseProxy = false })
    {
        Timeout = TimeSpan.FromSeconds(10),
    };

    private readonly ConcurrentDictionary<string, OidcSigningKeys> _keysByProvider = new(StringComparer.Ordinal);
    private readonly ConditionalWeakTable<IdentityProviderOptions, JwtValidator> _validators = new();

    public JwtValidator ValidatorFor(IdentityProviderOptions options) =>
        _validators.TryGetValue(options, out var validator) ? validator : _validators.GetValue(options, Create);

    private JwtValidator Create(IdentityProviderOptions options)
    {
        // Same issuer and refresh settings: the keys in hand carry over the reload.
        var key = $"{options.Name}|{options.Issuer}|{options.KeyRefresh}|{options.UnknownKeyCooldown}";
        var keys = _keysByProvider.GetOrAdd(key, _ => new OidcSigningKeys(options, Http, time, loggers.CreateLogger<OidcSigningKeys>(), metrics));
        var introspector = options.Introspection is { } introspection
            ? new TokenIntrospector(options, introspection, Http, time, loggers.CreateLogger<TokenIntrospector>(), metrics)
            : null;
        return new JwtValidator(keys, options, time, introspector);
    }

    public void Dispose()
    {
        foreach (var keys in _keysByProvider.Values)
        {
            keys.Dispose();
        }
    }
}
