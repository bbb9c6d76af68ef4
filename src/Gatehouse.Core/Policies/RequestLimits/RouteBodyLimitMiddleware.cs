using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Policies.RequestLimits;

/// <summary>
/// The body limit of the matched route (else the global one): a declared Content-Length over it is refused at
/// once with 413; a chunked body is cut off by Kestrel when it crosses the limit, which the forwarder-error stage
/// turns into 413 as well.
/// </summary>
internal sealed class RouteBodyLimitMiddleware(RequestDelegate next, GatewayState state)
{
    public Task InvokeAsync(HttpContext context)
    {
        var route = context.GetEndpoint()?.Metadata.GetMetadata<CompiledRoute>();
        var limit = route?.MaxBodyBytes ?? state.Current.MaxBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            return ProblemWriter.WriteAsync(context, GatewayProblem.BodyTooLarge,
                $"The request body is {context.Request.ContentLength} bytes; the limit for this route is {limit}.", closeConnection: true);
        }

        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        return next(context);
    }
}
