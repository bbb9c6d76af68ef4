using Gatehouse.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.RequestLimits;

/// <summary>
/// The body limit of the matched route (else the global one): a declared Content-Length over it is refused at
/// once with 413; a chunked body is cut off by Kestrel when it crosses the limit, which the forwarder-error stage
/// turns into 413 as well.
/// </summary>
internal sealed class RouteBodyLimitMiddleware(RequestDelegate next, long limit, string route, ILogger logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength is { } length)
        {
            if (length > limit)
            {
                RequestLimitsLog.BodyTooLarge(logger, context.TraceIdentifier, route, length, limit);
                return ProblemWriter.WriteAsync(context, GatewayProblem.BodyTooLarge,
                    $"The request body is {length} bytes; the limit for this route is {limit}.", closeConnection: true);
            }
        }
        else if (request.Headers.TransferEncoding.Count == 0 && (HttpProtocol.IsHttp11(request.Protocol) || HttpProtocol.IsHttp10(request.Protocol)))
        {
            // RFC 9112 6.3: an HTTP/1.x request with neither Content-Length nor Transfer-Encoding has no body, so
            // there is no limit to set (most GETs; the feature lookup is skipped).
            return next(context);
        }

        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        return next(context);
    }
}
