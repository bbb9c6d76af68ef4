using Gatehouse.Proxy;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gatehouse.Policies.Resilience;

/// <summary>
/// The response side of the resilience stage, on routes that have retries or a response timeout. It runs when the
/// backend's response headers arrive, before YARP sends anything to the client: it stops the response timeout, and
/// holds back a retryable 5xx (YARP's <c>SuppressResponseBody</c>: the forwarder then sends nothing and returns) when
/// the try may be retried and the budget allows, so the resilience middleware can send the request again.
/// </summary>
internal sealed class ResilienceTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.Metadata is not RouteMetadata { Route.Resilience: { } policy }
            || (policy.Service.Retry is null && policy.ResponseTimeout is null))
        {
            return;
        }

        context.AddResponseTransform(static transform =>
        {
            if (transform.ProxyResponse is not { } response
                || transform.HttpContext.Features.Get<ResilienceRequest>() is not { } state)
            {
                return ValueTask.CompletedTask;
            }

            state.OnResponseHeaders();
            var status = (int)response.StatusCode;
            if (status >= 500 && state.RetryAllowed && state.Policy.Service.Retry is { } budget && budget.Options.OnStatus.Contains(status))
            {
                if (budget.TryRetry())
                {
                    transform.SuppressResponseBody = true;
                    state.HeldBackStatus = status;
                }
                else
                {
                    state.BudgetSpent = true;
                }
            }

            return ValueTask.CompletedTask;
        });
    }
}
