using Gatehouse.Configuration;

namespace Gatehouse.Policies.Caching;

/// <summary>A route's <c>cache</c>, compiled with its store (see <see cref="ResponseCache.StoreForAsync"/>).</summary>
internal sealed class ResponseCacheCompiler(ResponseCache cache) : IRoutePolicyCompiler
{
    public async ValueTask<object?> CompileAsync(RouteCompilation compilation) =>
        compilation.Route.Cache is { } options
            ? new CachePolicy(compilation.Route.Name, options, await cache.StoreForAsync(options, compilation.Options.Redis, compilation.Runtime))
            : null;
}
