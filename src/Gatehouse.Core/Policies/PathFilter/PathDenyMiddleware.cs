using Gatehouse.Errors;
using Gatehouse.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Policies.PathFilter;

/// <summary>After routing: the global and the route's <c>deny: { paths }</c> lists, on the normalised path. 403 <c>path-denied</c>.</summary>
internal sealed class PathDenyMiddleware(RequestDelegate next, PathDenyList? global, PathDenyList? route)
{
    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        return global?.FirstMatch(path) is not null || route?.FirstMatch(path) is not null
            ? ProblemWriter.WriteAsync(context, GatewayProblem.PathDenied, "This path is not served through the gateway.")
            : next(context);
    }
}

/// <summary>The path deny stage: present only where a global or route deny list applies.</summary>
internal sealed class PathDenyStage : IGatewayStage
{
    public RequestDelegate Build(StageContext context, RequestDelegate next)
    {
        var global = context.Snapshot.DeniedPaths;
        var route = context.Route?.DeniedPaths;
        return global is null && route is null ? next : new PathDenyMiddleware(next, global, route).InvokeAsync;
    }
}
