using Gatehouse.Configuration;

namespace Gatehouse.Policies.Caching;

/// <summary>The top-level <c>cache</c> section and each route's <c>cache</c> (its store must exist, its entries fit the memory store).</summary>
internal sealed class ResponseCacheOptionsValidator : IGatewayOptionsValidator
{
    public void Validate(GatewayOptions options, ConfigDiagnostics diagnostics)
    {
        CacheOptions.Validate(options.Cache, diagnostics);
        foreach (var route in options.Routes)
        {
            if (route.Cache is { } routeCache)
            {
                RouteCacheOptions.Validate(routeCache, route.Name, options.Redis is not null, options.Cache.MemoryMaxBytes, diagnostics);
            }
        }
    }
}
