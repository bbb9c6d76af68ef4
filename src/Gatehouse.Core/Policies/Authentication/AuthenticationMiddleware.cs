using System.Security.Claims;
using Gatehouse.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// Authenticates the caller of a route that needs it (the route's <c>auth</c>, else the top-level default) with its
/// providers in order (API key, JWT from an OpenID Connect issuer, introspected tokens) and sets
/// <see cref="HttpContext.User"/>. Fails closed: no valid credential, 401 with <c>WWW-Authenticate</c> (RFC 6750 error
/// codes for bearer tokens); keys of the identity provider unobtainable, 503. What the caller may do is the next
/// stage's (<see cref="AuthorizationMiddleware"/>); built only for routes whose auth is not anonymous.
/// </summary>
internal sealed partial class AuthenticationMiddleware(RequestDelegate next, IdentityPolicy identity, AuthPolicy auth, string route, ILogger logger)
{
    public const string ConsumerClaim = "consumer";

    public async Task InvokeAsync(HttpContext context)
    {
        // Stopped before the rest of the pipeline runs (a second Stop by using is a no-op).
        using var span = Observability.GatewayTracing.StartStage("gatehouse.authenticate");
        Caller? caller = null;
        var bearerError = (string?)null;
        if (auth.ApiKey && FindApiKeyConsumer(context, identity) is { } consumer)
        {
            caller = new Caller(new ClaimsIdentity([new Claim(ConsumerClaim, consumer), new Claim("sub", consumer)], "apiKey", "sub", "roles"), AuthOptions.ApiKeyProvider);
        }

        var header = caller is null && auth.JwtValidators.Length > 0 ? BearerHeader(context.Request) : null;
        if (header is not null)
        {
            // The common case, a token seen before: no copy of the token, no await.
            foreach (var validator in auth.JwtValidators)
            {
                if (validator.TryGetCached(header.AsSpan(7).Trim()) is { } known)
                {
                    caller = known;
                    break;
                }
            }
        }

        var token = caller is null && header is not null ? header[7..].Trim() : null;
        if (token is not null)
        {
            var keysUnavailable = false;
            foreach (var validator in auth.JwtValidators)
            {
                var (outcome, jwtCaller, reason) = await validator.ValidateAsync(token, context.RequestAborted);
                if (outcome == JwtValidator.Outcome.Valid)
                {
                    caller = jwtCaller;
                    break;
                }

                keysUnavailable |= outcome == JwtValidator.Outcome.KeysUnavailable;
                LogTokenRefused(logger, context.TraceIdentifier, validator.Provider, reason ?? "invalid");
            }

            if (caller is null && keysUnavailable)
            {
                await ProblemWriter.WriteAsync(context, GatewayProblem.IdentityProviderUnavailable,
                    "The identity provider cannot be reached (keys or introspection); the request is refused rather than let through.", retryAfter: "5");
                return;
            }

            bearerError = caller is null ? "invalid_token" : null;
        }

        if (caller is null)
        {
            LogUnauthenticated(logger, context.TraceIdentifier, route);
            await ProblemWriter.WriteAsync(context, GatewayProblem.Unauthenticated, Describe(auth, identity, bearerError),
                wwwAuthenticate: Challenges(auth, identity, bearerError));
            return;
        }

        context.User = caller.Principal;
        span?.Dispose();
        await next(context);
    }

    /// <summary>
    /// The whole <c>Authorization: Bearer …</c> value, only from the header: a token in the URL ends up in logs
    /// (RFC 6750 2.3 discourages it). The token starts at index 7.
    /// </summary>
    private static string? BearerHeader(HttpRequest request)
    {
        var authorization = request.Headers.Authorization;
        if (authorization.Count != 1 || authorization[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return value.AsSpan(7).Trim().Length is > 0 and < 16 * 1024 ? value : null;
    }

    private static string Challenges(AuthPolicy auth, IdentityPolicy identity, string? bearerError)
    {
        var challenges = new List<string>();
        if (auth.JwtValidators.Length > 0)
        {
            challenges.Add(bearerError is null ? "Bearer" : $"Bearer error=\"{bearerError}\"");
        }

        if (auth.ApiKey)
        {
            challenges.Add(identity.WwwAuthenticate);
        }

        return string.Join(", ", challenges);
    }

    private static string Describe(AuthPolicy auth, IdentityPolicy identity, string? bearerError) => (auth.ApiKey, auth.JwtValidators.Length > 0, bearerError) switch
    {
        (_, true, "invalid_token") => "The bearer token is not valid for this gateway (signature, issuer, audience, expiry or algorithm).",
        (true, true, _) => $"This route needs a bearer token or an API key in the {identity.ApiKey.Header} header.",
        (false, true, _) => "This route needs a bearer token.",
        _ => $"This route needs an API key in the {identity.ApiKey.Header} header.",
    };

    private static string? FindApiKeyConsumer(HttpContext context, IdentityPolicy identity)
    {
        var fromHeader = context.Request.Headers[identity.ApiKey.Header];
        if (fromHeader.Count == 1)
        {
            return identity.ApiKeys.FindConsumer(fromHeader[0]);
        }

        return identity.ApiKey.QueryParameter is { } parameter && context.Request.Query[parameter] is { Count: 1 } fromQuery
            ? identity.ApiKeys.FindConsumer(fromQuery[0])
            : null;
    }

    [LoggerMessage(EventId = Observability.LogEvents.Unauthenticated, Level = LogLevel.Debug, Message = "Request {RequestId} on route {Route} refused: no valid credential")]
    private static partial void LogUnauthenticated(ILogger logger, string requestId, string route);

    [LoggerMessage(EventId = Observability.LogEvents.TokenRefused, Level = LogLevel.Debug, Message = "Request {RequestId}: token refused by identity provider {Provider}: {Reason}")]
    private static partial void LogTokenRefused(ILogger logger, string requestId, string provider, string reason);
}
