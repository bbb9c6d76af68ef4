using Gatehouse.Configuration;
using Gatehouse.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

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
        // Only origin-form targets ('/path?query'): for an absolute-form target Kestrel takes the path from
        // Uri.LocalPath, which decodes %2F without resolving the '..' that reveals, and skips its own checks.
        var target = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        if (!target.StartsWith('/') && !(target == "*" && HttpMethods.IsOptions(context.Request.Method)))
        {
            return ProblemWriter.WriteAsync(context, GatewayProblem.BadRequest, "Only origin-form request targets (/path?query) are accepted.", closeConnection: true);
        }

        var path = context.Request.Path.Value;
        if (path is not null)
        {
            var options = state.Current.Options.PathNormalization;
            var normalized = PathNormalizer.Normalize(path, options.EscapedSlashes, options.MergeSlashes, out var rejection);
            if (rejection is not null)
            {
                return ProblemWriter.WriteAsync(context, GatewayProblem.BadRequest, rejection);
            }

            if (normalized is not null)
            {
                context.Request.Path = new PathString(normalized);
            }
        }

        return next(context);
    }
}
