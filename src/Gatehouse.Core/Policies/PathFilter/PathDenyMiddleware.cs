using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Policies.PathFilter;

/// <summary>After routing: the global and the route's <c>deny: { paths }</c> lists, on the normalised path. 403 <c>path-denied</c>.</summary>
internal sealed class PathDenyMiddleware(RequestDelegate next, GatewayState state)
{
    public Task InvokeAsync(HttpContext context)
    {
        var snapshot = state.Current;
        if (!snapshot.UsesPathDeny)
        {
            return next(context);
        }

        var global = snapshot.DeniedPaths;
        var route = context.GetEndpoint()?.Metadata.GetMetadata<CompiledRoute>()?.DeniedPaths;
        if (global is null && route is null)
        {
            return next(context);
        }

        var path = context.Request.Path.Value ?? "/";
        return global?.FirstMatch(path) is not null || route?.FirstMatch(path) is not null
            ? ProblemWriter.WriteAsync(context, GatewayProblem.PathDenied, "This path is not served through the gateway.")
            : next(context);
    }
}
