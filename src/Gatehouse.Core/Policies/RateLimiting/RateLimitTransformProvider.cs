using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gatehouse.Policies.RateLimiting;

/// <summary>Adds an admitted request's <see cref="RateLimitFields"/> to the backend's response, on routes with a rate limit.</summary>
internal sealed class RateLimitTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.Metadata is not Proxy.RouteMetadata { Route.RateLimits: not null })
        {
            return;
        }

        context.AddResponseTransform(static transform =>
        {
            transform.HttpContext.Features.Get<RateLimitFields>()?.Apply(transform.HttpContext.Response.Headers);
            return ValueTask.CompletedTask;
        });
    }
}
