using System.Diagnostics;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gatehouse.Observability;

/// <summary>
/// Per try of the forwarder: notes the target and the time the request leaves (the request transform runs last,
/// just before sending) and the time the response headers arrive, for the upstream duration; and sends the trace
/// context to the backend. The <c>traceparent</c> is set here rather than by HttpClient's propagator
/// (switched off in the forwarder's handler), because that one only follows <see cref="Activity.Current"/>, which
/// exists only for recorded requests; this way every request continues its trace, recorded or not, with one string.
/// </summary>
internal sealed class ObservabilityTransformProvider(GatewayTelemetry telemetry) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (!telemetry.Enabled)
        {
            return;
        }

        context.AddRequestTransform(transform =>
        {
            var httpContext = transform.HttpContext;
            if (GatewayRequestTelemetry.Of(httpContext) is not { } request)
            {
                return ValueTask.CompletedTask;
            }

            // The route's service is the YARP cluster (GatewayCompiler names clusters after services).
            var proxy = httpContext.Features.Get<IReverseProxyFeature>();
            request.Service ??= proxy?.Cluster.Config.ClusterId;
            request.Target = proxy?.ProxiedDestination?.DestinationId;
            telemetry.UpstreamTryStarting(request, Stopwatch.GetTimestamp());
            if (request.Trace.IsSet)
            {
                var parentSpan = request.Trace.SpanId;
                if (request.Activity is { } server)
                {
                    // A child of the server span per try, not made current: the rest of the request belongs to the server span.
                    var previous = Activity.Current;
                    var attempt = GatewayTracing.Source.StartActivity("gatehouse.upstream", ActivityKind.Client, server.Context);
                    Activity.Current = previous;
                    if (attempt is not null)
                    {
                        attempt.SetTag("gatehouse.target", request.Target);
                        attempt.SetTag("gatehouse.try", request.UpstreamTries);
                        request.UpstreamActivity = attempt;
                        parentSpan = TraceContext.From(attempt).SpanId;
                    }
                }

                var headers = transform.ProxyRequest.Headers;
                if (httpContext.Request.Headers.TraceParent.Count > 0)
                {
                    // The client's, copied by the forwarder: the backend's parent is the gateway, not the client.
                    headers.Remove(HeaderNames.TraceParent);
                }

                headers.TryAddWithoutValidation(HeaderNames.TraceParent, request.Trace.ToTraceparent(parentSpan));
            }

            return ValueTask.CompletedTask;
        });

        context.AddResponseTransform(transform =>
        {
            if (GatewayRequestTelemetry.Of(transform.HttpContext) is { UpstreamStartTimestamp: not 0 } request)
            {
                var response = transform.ProxyResponse;
                telemetry.CloseUpstreamTry(request, response is null ? 0 : (int)response.StatusCode, Stopwatch.GetTimestamp());
                if (response is not null && response.Content.Headers.ContentLength is null)
                {
                    telemetry.CountResponseBody(transform.HttpContext, request);
                }
            }

            return ValueTask.CompletedTask;
        });
    }
}
