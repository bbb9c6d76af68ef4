using Gatehouse.Configuration;
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
internal sealed class PathDenyTransformProvider(GatewayState state) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.Metadata is not RouteMetadata { Route.Options.Rewrite: not null })
        {
            return;
        }

        context.AddRequestTransform(async transform =>
        {
            var route = transform.HttpContext.GetEndpoint()?.Metadata.GetMetadata<CompiledRoute>();
            var path = transform.Path.Value ?? "/";
            if (state.Current.DeniedPaths?.FirstMatch(path) is not null || route?.DeniedPaths?.FirstMatch(path) is not null)
            {
                await ProblemWriter.WriteAsync(transform.HttpContext, GatewayProblem.PathDenied, "This path is not served through the gateway.");
            }
        });
    }
}
