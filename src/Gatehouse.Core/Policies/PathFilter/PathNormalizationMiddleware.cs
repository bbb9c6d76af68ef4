using Gatehouse.Configuration;
using Gatehouse.Errors;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Policies.PathFilter;

/// <summary>
/// Before routing: rewrites the request path to its normal form (<see cref="PathNormalizer"/>), so routing, deny
/// lists and the forwarded request all use the same path, and a traversal spelled with <c>%2F</c>, <c>%5C</c>,
/// <c>\</c> or <c>//</c> cannot reach a path that a deny list or a route was meant to keep out.
/// </summary>
internal sealed class PathNormalizationMiddleware(RequestDelegate next, GatewayState state)
{
    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value;
        if (path is not null)
        {
            var options = state.Current.Options.PathNormalization;
            var normalized = PathNormalizer.Normalize(path, options.EscapedSlashes, options.MergeSlashes, out var rejected);
            if (rejected)
            {
                return ProblemWriter.WriteAsync(context, GatewayProblem.BadRequest, "Encoded slashes (%2F, %5C) are not allowed in the path.");
            }

            if (normalized is not null)
            {
                context.Request.Path = new PathString(normalized);
            }
        }

        return next(context);
    }
}
