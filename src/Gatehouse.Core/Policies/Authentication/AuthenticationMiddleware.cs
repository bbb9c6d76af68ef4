using System.Security.Claims;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// Authenticates the caller of a route that needs it (the route's <c>auth</c>, else the top-level default) with
/// its providers in order (API key, JWT from an OpenID Connect issuer), checks the route's scopes, and sends the
/// route's <c>forwardClaims</c> to the backend as headers. Client-sent copies of every identity header the config
/// uses, and the API key itself, are removed on every route, so a backend can trust them. Fails closed: no valid
/// credential, 401 with <c>WWW-Authenticate</c> (RFC 6750 error codes for bearer tokens); missing scope, 403
/// <c>insufficient_scope</c>; keys of the identity provider unobtainable, 503.
/// </summary>
internal sealed partial class AuthenticationMiddleware(RequestDelegate next, GatewayState state, IdentityProviderRegistry registry, ILogger<AuthenticationMiddleware> logger)
{
    public const string ConsumerClaim = "consumer";

    public Task InvokeAsync(HttpContext context)
    {
        var identity = state.Current.Identity;
        if (identity is null)
        {
            return next(context);
        }

        var route = context.GetEndpoint()?.Metadata.GetMetadata<CompiledRoute>();
        var auth = route?.Auth ?? identity.DefaultAuth;
        return auth is null or { Anonymous: true }
            ? Forward(context, identity, route, authenticated: false)
            : AuthenticateAsync(context, identity, route, auth);
    }

    private async Task AuthenticateAsync(HttpContext context, IdentityPolicy identity, CompiledRoute? route, AuthPolicy auth)
    {
        // Stopped before the rest of the pipeline runs (a second Stop by using is a no-op).
        using var span = Observability.GatewayTracing.StartStage("gatehouse.authenticate");
        Caller? caller = null;
        var bearerError = (string?)null;
        if (auth.ApiKey && FindApiKeyConsumer(context, identity) is { } consumer)
        {
            caller = new Caller(new ClaimsIdentity([new Claim(ConsumerClaim, consumer), new Claim("sub", consumer)], "apiKey", "sub", "roles"));
        }

        var header = caller is null && auth.JwtProviders.Length > 0 ? BearerHeader(context.Request) : null;
        if (header is not null)
        {
            // The common case, a token seen before: no copy of the token, no await.
            foreach (var provider in auth.JwtProviders)
            {
                if (registry.ValidatorFor(provider).TryGetCached(header.AsSpan(7).Trim()) is { } known)
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
            foreach (var provider in auth.JwtProviders)
            {
                var (outcome, jwtCaller, reason) = await registry.ValidatorFor(provider).ValidateAsync(token, context.RequestAborted);
                if (outcome == JwtValidator.Outcome.Valid)
                {
                    caller = jwtCaller;
                    break;
                }

                keysUnavailable |= outcome == JwtValidator.Outcome.KeysUnavailable;
                LogTokenRefused(logger, context.TraceIdentifier, provider.Name, reason ?? "invalid");
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
            LogUnauthenticated(logger, context.TraceIdentifier, route?.Name ?? "?");
            await ProblemWriter.WriteAsync(context, GatewayProblem.Unauthenticated, Describe(auth, identity, bearerError),
                wwwAuthenticate: Challenges(auth, identity, bearerError));
            return;
        }

        if (caller.MissingScope(auth.Scopes) is { } missing)
        {
            await ProblemWriter.WriteAsync(context, GatewayProblem.InsufficientScope, $"This route needs the scope '{missing}'.",
                wwwAuthenticate: $"Bearer error=\"insufficient_scope\", scope=\"{string.Join(' ', auth.Scopes)}\"");
            return;
        }

        if (auth.FailedCondition(caller) is { } failed)
        {
            await ProblemWriter.WriteAsync(context, GatewayProblem.AccessDenied, $"Authenticated, but {failed}.");
            return;
        }

        context.User = caller.Principal;
        if (auth.StripAuthorization)
        {
            context.Request.Headers.Authorization = default;
        }

        span?.Dispose();
        await Forward(context, identity, route, authenticated: true);
    }

    private Task Forward(HttpContext context, IdentityPolicy identity, CompiledRoute? route, bool authenticated)
    {
        var headers = context.Request.Headers;
        foreach (var header in identity.StrippedHeaders)
        {
            headers.Remove(header);
        }

        if (identity.ApiKey.QueryParameter is { } parameter && context.Request.Query.ContainsKey(parameter))
        {
            context.Request.QueryString = WithoutParameter(context.Request.Query, parameter);
        }

        if (authenticated && route?.ForwardClaims is { } forward)
        {
            foreach (var (claim, header) in forward)
            {
                if (context.User.FindFirst(claim)?.Value is { } value)
                {
                    headers[header] = value;
                }
            }
        }

        return next(context);
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
        if (auth.JwtProviders.Length > 0)
        {
            challenges.Add(bearerError is null ? "Bearer" : $"Bearer error=\"{bearerError}\"");
        }

        if (auth.ApiKey)
        {
            challenges.Add(identity.WwwAuthenticate);
        }

        return string.Join(", ", challenges);
    }

    private static string Describe(AuthPolicy auth, IdentityPolicy identity, string? bearerError) => (auth.ApiKey, auth.JwtProviders.Length > 0, bearerError) switch
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

    private static QueryString WithoutParameter(IQueryCollection query, string parameter)
    {
        var builder = new QueryBuilder();
        foreach (var (name, values) in query)
        {
            if (!string.Equals(name, parameter, StringComparison.Ordinal))
            {
                foreach (var value in values)
                {
                    builder.Add(name, value ?? "");
                }
            }
        }

        return builder.ToQueryString();
    }

    [LoggerMessage(EventId = Observability.LogEvents.Unauthenticated, Level = LogLevel.Debug, Message = "Request {RequestId} on route {Route} refused: no valid credential")]
    private static partial void LogUnauthenticated(ILogger logger, string requestId, string route);

    [LoggerMessage(EventId = Observability.LogEvents.TokenRefused, Level = LogLevel.Debug, Message = "Request {RequestId}: token refused by identity provider {Provider}: {Reason}")]
    private static partial void LogTokenRefused(ILogger logger, string requestId, string provider, string reason);
}

/// <summary>Everything identity-related compiled from one config: keys, the default auth, headers to strip.</summary>
internal sealed class IdentityPolicy
{
    public required ApiKeyOptions ApiKey { get; init; }

    public required ApiKeyCredentials ApiKeys { get; init; }

    public required AuthPolicy? DefaultAuth { get; init; }

    /// <summary>The API key header and every header a route's forwardClaims writes: never accepted from a client.</summary>
    public required string[] StrippedHeaders { get; init; }

    /// <summary>The API-key challenge of a 401 (RFC 9110 11.6.1), built once.</summary>
    public string WwwAuthenticate => field ??= $"ApiKey header=\"{ApiKey.Header}\"";

    /// <summary>Null when the config uses no identity feature at all, so the stage costs nothing.</summary>
    public static IdentityPolicy? Compile(GatewayOptions options)
    {
        var usesIdentity = options.Consumers.Count > 0 || options.Auth is not null || options.IdentityProviders.Count > 0
            || options.Routes.Any(r => r.Auth is not null || r.ForwardClaims.Count > 0);
        if (!usesIdentity)
        {
            return null;
        }

        var apiKey = options.ApiKey ?? new ApiKeyOptions();
        return new IdentityPolicy
        {
            ApiKey = apiKey,
            ApiKeys = new ApiKeyCredentials(options.Consumers),
            DefaultAuth = AuthPolicy.Compile(options.Auth, options.IdentityProviders),
            StrippedHeaders = options.Routes.SelectMany(r => r.ForwardClaims.Select(f => f.Value))
                .Append(apiKey.Header).Distinct(StringComparer.OrdinalIgnoreCase).ToArray(),
        };
    }
}
