using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.IpFilter;

/// <summary>
/// Refuses with 403 a client address that the global or the route's <c>ipFilter</c> does not allow. Runs after
/// routing (for the route's lists) and for unmatched requests too (the global lists), so a denied client cannot
/// probe which routes exist.
/// </summary>
internal sealed partial class IpFilterMiddleware(RequestDelegate next, GatewayState state, ILogger<IpFilterMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var snapshot = state.Current;
        if (!snapshot.UsesIpFilter)
        {
            return next(context);
        }

        var global = snapshot.IpFilter;
        var route = context.GetEndpoint()?.Metadata.GetMetadata<CompiledRoute>()?.IpFilter;
        if (global is null && route is null)
        {
            return next(context);
        }

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
