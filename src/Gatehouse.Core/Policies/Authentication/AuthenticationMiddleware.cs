using System.Security.Claims;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// Authenticates the caller of a route that needs it (the route's <c>auth</c>, else the top-level default) and
/// sends the route's <c>forwardClaims</c> to the backend as headers. Client-sent copies of every identity header
/// the config uses, and the API key itself, are removed on every route, authenticated or not, so a backend can
/// trust them. Fails closed: no valid credential, 401 <c>unauthenticated</c> with <c>WWW-Authenticate</c>.
/// </summary>
internal sealed partial class AuthenticationMiddleware(RequestDelegate next, GatewayState state, ILogger<AuthenticationMiddleware> logger)
{
    public const string ConsumerClaim = "consumer";

    public Task InvokeAsync(HttpContext context)
    {
        var snapshot = state.Current;
        var identity = snapshot.Identity;
        if (identity is null)
        {
            return next(context);
        }

        var route = context.GetEndpoint()?.Metadata.GetMetadata<CompiledRoute>();
        var auth = route?.Auth ?? identity.DefaultAuth;
        string? consumer = null;
        if (auth is { Anonymous: false })
        {
            consumer = auth.ApiKey ? FindApiKeyConsumer(context, identity) : null;
            if (consumer is null)
            {
                LogUnauthenticated(logger, context.TraceIdentifier, route?.Name ?? "?");
                return ProblemWriter.WriteAsync(context, GatewayProblem.Unauthenticated,
                    $"This route needs an API key in the {identity.ApiKey.Header} header.", wwwAuthenticate: identity.WwwAuthenticate);
            }

            context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ConsumerClaim, consumer), new Claim(ClaimTypes.Name, consumer)], "apiKey"));
        }

        var headers = context.Request.Headers;
        foreach (var header in identity.StrippedHeaders)
        {
            headers.Remove(header);
        }

        if (identity.ApiKey.QueryParameter is { } parameter && context.Request.Query.ContainsKey(parameter))
        {
            context.Request.QueryString = WithoutParameter(context.Request.Query, parameter);
        }

        if (consumer is not null && route?.ForwardClaims is { } forward)
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

    [LoggerMessage(EventId = 5001, Level = LogLevel.Debug, Message = "Request {RequestId} on route {Route} refused: no valid credential")]
    private static partial void LogUnauthenticated(ILogger logger, string requestId, string route);
}

/// <summary>Everything identity-related compiled from one config: keys, the default auth, headers to strip.</summary>
internal sealed class IdentityPolicy
{
    public required ApiKeyOptions ApiKey { get; init; }

    public required ApiKeyCredentials ApiKeys { get; init; }

    public required AuthPolicy? DefaultAuth { get; init; }

    /// <summary>The API key header and every header a route's forwardClaims writes: never accepted from a client.</summary>
    public required string[] StrippedHeaders { get; init; }

    /// <summary>The challenge of a 401 (RFC 9110 11.6.1), built once.</summary>
    public string WwwAuthenticate => field ??= $"ApiKey header=\"{ApiKey.Header}\"";

    /// <summary>Null when the config uses no identity feature at all, so the stage costs nothing.</summary>
    public static IdentityPolicy? Compile(GatewayOptions options)
    {
        var usesIdentity = options.Consumers.Count > 0 || options.Auth is not null
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
            DefaultAuth = AuthPolicy.Compile(options.Auth),
            StrippedHeaders = options.Routes.SelectMany(r => r.ForwardClaims.Select(f => f.Value))
                .Append(apiKey.Header).Distinct(StringComparer.OrdinalIgnoreCase).ToArray(),
        };
    }
}
