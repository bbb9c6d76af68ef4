using Gatehouse.Errors;
using Gatehouse.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.IpFilter;

/// <summary>
/// Refuses with 403 a client address that the global or the route's <c>ipFilter</c> does not allow. Runs after
/// routing (for the route's lists) and for unmatched requests too (the global lists), so a denied client cannot
/// probe which routes exist. Built per route with that route's lists; absent from routes that have none.
/// </summary>
internal sealed partial class IpFilterMiddleware(RequestDelegate next, IpFilterPolicy? global, IpFilterPolicy? route, ILogger logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        var globalAllows = global is null || global.Allows(address);
        var routeAllows = route is null || route.Allows(address);
        if (globalAllows && routeAllows)
        {
            return next(context);
        }

        LogDenied(logger, context.TraceIdentifier, address, routeAllows ? "global" : "route");
        return ProblemWriter.WriteAsync(context, GatewayProblem.IpDenied, "The client address is not allowed here.");
    }

    [LoggerMessage(EventId = Observability.LogEvents.IpDenied, Level = LogLevel.Debug, Message = "Request {RequestId} from {ClientIp} refused by the {Scope} IP filter")]
    private static partial void LogDenied(ILogger logger, string requestId, System.Net.IPAddress? clientIp, string scope);
}

/// <summary>The IP filter stage: present on a route (or on unmatched requests) only when a global or route list applies.</summary>
internal sealed class IpFilterStage(ILogger<IpFilterMiddleware> logger) : IGatewayStage
{
    public RequestDelegate Build(StageContext context, RequestDelegate next)
    {
        var global = context.Snapshot.IpFilter;
        var route = context.Route?.IpFilter;
        return global is null && route is null ? next : new IpFilterMiddleware(next, global, route, logger).InvokeAsync;
    }
}
