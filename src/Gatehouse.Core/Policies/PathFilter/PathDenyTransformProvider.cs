using Gatehouse.Errors;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gatehouse.Policies.PathFilter;

/// <summary>
/// A route's <c>rewrite</c> changes the path after <see cref="PathDenyMiddleware"/> has checked it
/// (<c>/api/internal/x</c> with <c>stripPrefix: /api</c> is forwarded as <c>/internal/x</c>), so on routes that
/// rewrite, the deny lists are checked again on the path actually forwarded. YARP applies provider transforms
/// after the route's own, and stops forwarding when a transform has answered.
/// </summary>
internal sealed class PathDenyTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        // The route's own snapshot: the transforms are built with the route, so global and route lists are of one generation.
        if (context.Route.Metadata is not RouteMetadata { Route: { Options.Rewrite: not null } route }
            || (route.Snapshot.DeniedPaths, route.DeniedPaths) is (null, null))
        {
            return;
        }

        var global = route.Snapshot.DeniedPaths;
        var own = route.DeniedPaths;
        context.AddRequestTransform(async transform =>
        {
            var path = transform.Path.Value ?? "/";
            if (global?.FirstMatch(path) is not null || own?.FirstMatch(path) is not null)
            {
                await ProblemWriter.WriteAsync(transform.HttpContext, GatewayProblem.PathDenied, "This path is not served through the gateway.");
            }
        });
    }
}
