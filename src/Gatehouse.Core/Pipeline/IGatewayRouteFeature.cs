using Gatehouse.Configuration;
using Gatehouse.Proxy;

namespace Gatehouse.Pipeline;

/// <summary>
/// The route a request matched and the snapshot that route was compiled in, set once right after routing (as YARP's
/// <c>IReverseProxyFeature</c>). Both halves always come from one generation: during a reload YARP may still route to
/// an endpoint of the old snapshot while <see cref="GatewayState.Current"/> is already the new one, so a stage that
/// paired the current snapshot's defaults with the matched route's settings could apply half of each. Implemented by
/// <see cref="CompiledRoute"/> (a matched request) and by <see cref="GatewaySnapshot"/> (no route matched), so setting
/// it allocates nothing.
/// </summary>
internal interface IGatewayRouteFeature
{
    GatewaySnapshot Snapshot { get; }

    /// <summary>Null when no route matched (the request ends in 404 or 405).</summary>
    CompiledRoute? Route { get; }
}

internal static class GatewayRouteFeatureExtensions
{
    /// <summary>The route feature, or null before routing (and on the admin listener).</summary>
    public static IGatewayRouteFeature? GatewayRoute(this Microsoft.AspNetCore.Http.HttpContext context) =>
        context.Features.Get<IGatewayRouteFeature>();
}
