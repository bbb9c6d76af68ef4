using Gatehouse.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Proxy;

/// <summary>
/// Honours a protocol upgrade only for a WebSocket handshake on a route with <c>webSockets: true</c>. Any other
/// Upgrade (h2c, SPDY, a WebSocket on another route) is ignored, as RFC 9110 7.8 allows: the request goes on as
/// plain HTTP, so nothing can be tunnelled past the gateway's policies (h2c smuggling).
/// </summary>
internal sealed class UpgradeGuardMiddleware(RequestDelegate next, bool webSockets)
{
    public Task InvokeAsync(HttpContext context)
    {
        // An HTTP/1.1 upgrade needs an Upgrade header, an extended CONNECT the CONNECT method: most requests have
        // neither and skip both feature lookups.
        var request = context.Request;
        if (request.Headers.Upgrade.Count == 0 && !HttpMethods.IsConnect(request.Method))
        {
            return next(context);
        }

        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        if (upgrade is { IsUpgradableRequest: true })
        {
            var isWebSocket = string.Equals(context.Request.Headers.Upgrade, "websocket", StringComparison.OrdinalIgnoreCase);
            if (!webSockets || !isWebSocket)
            {
                context.Features.Set<IHttpUpgradeFeature>(null);
                context.Request.Headers.Remove("Upgrade");
            }
        }
        else if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect)
        {
            if (!webSockets || !string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase))
            {
                return ProblemWriter.WriteAsync(context, GatewayProblem.BadRequest,
                    $"Extended CONNECT for '{connect.Protocol}' is not allowed on this route.");
            }
        }

        return next(context);
    }
}
