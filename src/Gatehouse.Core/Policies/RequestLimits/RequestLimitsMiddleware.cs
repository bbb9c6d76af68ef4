using Gatehouse.Configuration;
using Gatehouse.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.RequestLimits;

/// <summary>
/// Limits that need no route: URL length (414), header size (431) and ambiguous framing (400 and close).
/// Kestrel enforces looser hard limits as a backstop (see <c>KestrelLimits</c>); checking here instead of
/// relying on Kestrel alone is what lets these answers be problem+json and follow reloads.
/// </summary>
internal sealed class RequestLimitsMiddleware(RequestDelegate next, GatewayState state, ILogger<RequestLimitsMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var snapshot = state.Current;
        var request = context.Request;
        var target = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        if (target.Length > snapshot.MaxUrlBytes)
        {
            RequestLimitsLog.UrlTooLong(logger, context.TraceIdentifier, target.Length, snapshot.MaxUrlBytes);
            return ProblemWriter.WriteAsync(context, GatewayProblem.UrlTooLong,
                $"The request target is {target.Length} bytes; the limit is {snapshot.MaxUrlBytes}.", closeConnection: true);
        }

        var headerBytes = 0L;
        foreach (var header in request.Headers)
        {
            // name + ": " + value + CRLF, as on the wire in HTTP/1.1.
            headerBytes += header.Key.Length + 4;
            foreach (var value in header.Value)
            {
                headerBytes += value?.Length ?? 0;
            }
        }

        if (headerBytes > snapshot.MaxHeaderBytes)
        {
            RequestLimitsLog.HeadersTooLarge(logger, context.TraceIdentifier, headerBytes, snapshot.MaxHeaderBytes);
            return ProblemWriter.WriteAsync(context, GatewayProblem.HeadersTooLarge,
                $"The request headers are {headerBytes} bytes; the limit is {snapshot.MaxHeaderBytes}.", closeConnection: true);
        }

        // RFC 9112 6.3: a message with both is a smuggling attempt or a broken client; never pass it on.
        // Kestrel (8+) answers such a request itself by moving Content-Length to X-Content-Length, reading the body
        // as chunked and closing afterwards; a strict edge refuses it instead, so look for either form.
        var requestHeaders = request.Headers;
        if (requestHeaders.TransferEncoding.Count > 0
            && (requestHeaders.ContentLength is not null || requestHeaders.ContainsKey("X-Content-Length")))
        {
            RequestLimitsLog.AmbiguousFraming(logger, context.TraceIdentifier);
            return ProblemWriter.WriteAsync(context, GatewayProblem.AmbiguousFraming,
                "The request has both Content-Length and Transfer-Encoding.", closeConnection: true);
        }

        return next(context);
    }
}
