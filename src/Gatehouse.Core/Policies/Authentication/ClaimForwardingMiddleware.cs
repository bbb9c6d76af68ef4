using Microsoft.AspNetCore.Http;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// Sends the authenticated caller's claims to the backend as the headers the route's <c>forwardClaims</c> names (the
/// client's own copies were removed by <see cref="IdentityHeadersMiddleware"/> just before). Built only for routes
/// that authenticate and forward claims.
/// </summary>
internal sealed class ClaimForwardingMiddleware(RequestDelegate next, KeyValuePair<string, string>[] forward)
{
    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        foreach (var (claim, header) in forward)
        {
            if (context.User.FindFirst(claim)?.Value is { } value)
            {
                headers[header] = value;
            }
        }

        return next(context);
    }
}
