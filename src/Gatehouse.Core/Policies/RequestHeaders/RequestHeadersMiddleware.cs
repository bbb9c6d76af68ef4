using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Policies.IpFilter;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Policies.RequestHeaders;

/// <summary>
/// Before anything reads the request (client address, routing, auth): removes the headers
/// <see cref="RequestHeaderFilter"/> lists, or refuses a request whose header names the config refuses. One pass over
/// the headers; the removal list is made only when there is something to remove.
/// </summary>
internal sealed class RequestHeadersMiddleware(RequestDelegate next, GatewayState state)
{
    public Task InvokeAsync(HttpContext context)
    {
        var snapshot = state.Current;
        var filter = snapshot.Options.RequestHeaders.Filter;
        var trusted = snapshot.TrustedProxies;
        var trustedPeer = trusted.Length > 0 && context.Connection.RemoteIpAddress is { } peer && IpRanges.Contains(trusted, peer);
        var headers = context.Request.Headers;
        List<string>? removed = null;
        foreach (var header in headers)
        {
            var name = header.Key;
            if (filter.Refuses(name))
            {
                return ProblemWriter.WriteAsync(context, GatewayProblem.BadRequest,
                    $"The request header '{name}' has an underscore in its name, which this gateway refuses (requestHeaders.underscores: reject).");
            }

            if (filter.Removes(name, trustedPeer))
            {
                (removed ??= []).Add(name);
            }
        }

        if (removed is not null)
        {
            foreach (var name in removed)
            {
                headers.Remove(name);
            }
        }

        return next(context);
    }
}
