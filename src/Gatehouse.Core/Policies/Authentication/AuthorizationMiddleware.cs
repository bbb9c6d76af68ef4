using Gatehouse.Errors;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// What an authenticated caller may do on the route: its scopes (403 <c>insufficient_scope</c> with the RFC 6750
/// challenge), then its claims and roles (403 <c>access-denied</c>). Built only for routes that require any of them,
/// right after <see cref="AuthenticationMiddleware"/>, as ASP.NET Core separates UseAuthentication and UseAuthorization.
/// </summary>
internal sealed class AuthorizationMiddleware(RequestDelegate next, AuthPolicy auth)
{
    private readonly string _scopeChallenge = $"Bearer error=\"insufficient_scope\", scope=\"{string.Join(' ', auth.Scopes)}\"";

    public Task InvokeAsync(HttpContext context)
    {
        // The authentication stage before this one answered unless it set the caller.
        var caller = ((CallerPrincipal)context.User).Caller;
        if (caller.MissingScope(auth.Scopes) is { } missing)
        {
            return ProblemWriter.WriteAsync(context, GatewayProblem.InsufficientScope, $"This route needs the scope '{missing}'.", wwwAuthenticate: _scopeChallenge);
        }

        return auth.FailedCondition(caller) is { } failed
            ? ProblemWriter.WriteAsync(context, GatewayProblem.AccessDenied, $"Authenticated, but {failed}.")
            : next(context);
    }
}
