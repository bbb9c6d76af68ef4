using Gatehouse.Configuration;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// The top-level <c>cache</c> section and each route's <c>cache</c> (its store must exist, its entries fit the memory
/// store, <c>keyByConsumer</c> only where the route authenticates).
/// </summary>
internal sealed class ResponseCacheOptionsValidator : IGatewayOptionsValidator
{
    public void Validate(GatewayOptions options, ConfigDiagnostics diagnostics)
    {
        CacheOptions.Validate(options.Cache, diagnostics);
        foreach (var route in options.Routes)
        {
            if (route.Cache is { } routeCache)
            {
                // The route's auth, else the top-level default: keyByConsumer needs a consumer the gateway authenticated.
                var auth = route.Auth ?? options.Auth;
                var anonymous = auth is null ? "no auth (neither the route nor the top level sets one)" : auth.Anonymous ? "auth: anonymous" : null;
                RouteCacheOptions.Validate(routeCache, route.Name, options.Redis is not null, options.Cache.MemoryMaxBytes, anonymous, diagnostics);
            }
        }
    }
}
