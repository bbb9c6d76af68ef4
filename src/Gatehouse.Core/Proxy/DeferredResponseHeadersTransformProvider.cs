using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gatehouse.Proxy;

/// <summary>
/// Adds a request's <see cref="DeferredResponseHeaders"/> after the backend's response headers, so they replace a
/// backend's fields of the same name. Only on routes whose stages can defer fields (today: routes with a rate
/// limit); other routes pay nothing for it.
/// </summary>
internal sealed class DeferredResponseHeadersTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.Metadata is not RouteMetadata { Route.RateLimits: not null })
        {
            return;
        }

        context.AddResponseTransform(static transform =>
        {
            transform.HttpContext.Features.Get<DeferredResponseHeaders>()?.Apply(transform.HttpContext.Response.Headers);
            return ValueTask.CompletedTask;
        });
    }
}
