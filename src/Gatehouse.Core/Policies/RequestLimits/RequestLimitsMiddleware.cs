using System.Buffers;
using Microsoft.Extensions.Primitives;
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

        if (request.Method.Length > MaxMethodLength)
        {
            return RefuseMalformed(context, $"The method is {request.Method.Length} characters long; no HTTP method is longer than {MaxMethodLength}.");
        }

        var headerBytes = 0L;
        foreach (var header in request.Headers)
        {
            // name + ": " + value + CRLF, as on the wire in HTTP/1.1.
            headerBytes += header.Key.Length + 4;
            foreach (var value in header.Value)
            {
                headerBytes += value?.Length ?? 0;
                if (value is not null && value.AsSpan().IndexOfAny(Controls) >= 0)
                {
                    return RefuseMalformed(context, $"The header '{header.Key}' has a control character in its value.");
                }
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

        // RFC 9110 10.1.4 and 6.6.2: a client may ask for trailers in a response, nothing else a proxy would honour
        // hop by hop; and a request announcing trailer fields asks the backend to trust fields that come after the
        // policies looked at the headers. (A signed Content-Length such as '+5' cannot be refused here: Kestrel parses
        // and re-formats the value before the app sees it, and forwards the digits it framed the body by.)
        if (requestHeaders.TE is { Count: > 0 } te && !OnlyTrailers(te))
        {
            return RefuseMalformed(context, "TE may only be 'trailers'.");
        }

        if (requestHeaders.Trailer.Count > 0)
        {
            return RefuseMalformed(context, "Requests with trailer fields (a Trailer header) are not accepted.");
        }

        return next(context);
    }

    /// <summary>Longer than any registered method (the longest, UPDATEREDIRECTREF, has 17).</summary>
    internal const int MaxMethodLength = 20;

    /// <summary>RFC 9110 5.5: a field value holds no control characters but horizontal tab.</summary>
    private static readonly SearchValues<char> Controls = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000a\u000b\u000c\u000d\u000e\u000f" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\u007f");

    private static bool OnlyTrailers(StringValues te)
    {
        foreach (var value in te)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                var token = value.AsSpan()[range].Trim();
                if (token.Length > 0 && !token.Equals("trailers", StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private Task RefuseMalformed(HttpContext context, string reason)
    {
        RequestLimitsLog.Malformed(logger, context.TraceIdentifier, reason);
        return ProblemWriter.WriteAsync(context, GatewayProblem.BadRequest, reason, closeConnection: true);
    }
}
