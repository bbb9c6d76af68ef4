using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Admin;

/// <summary>
/// The admin listener's bearer token (<c>admin.token</c>) and its guard against browsers (<see cref="AdminRequestGuard"/>:
/// Host, Origin, body type). Installed as middleware in front of every admin endpoint, so an endpoint someone adds
/// later is protected unless it says otherwise (<see cref="Anonymous"/>, which skips the token only): only the
/// liveness and readiness probes and the dashboard's static page (which holds no data) are.
/// </summary>
internal static partial class AdminAuth
{
    public const int MinTokenLength = 16;

    /// <summary>Endpoint metadata: answered without the token.</summary>
    public static readonly AnonymousAdminEndpoint Anonymous = new();

    private const string Challenge = "Bearer realm=\"gatehouse-admin\"";
    private const string InvalidTokenChallenge = "Bearer realm=\"gatehouse-admin\", error=\"invalid_token\"";

    public static bool IsLoopback(Uri listen) =>
        listen.Host == "localhost" || (IPAddress.TryParse(listen.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>
    /// The token is read from the config in force on each request, so a reload rotates it. A listener started on
    /// a non-loopback address fails closed should a reload ever leave it without a token (the validator refuses
    /// that, but a reload that also moves <c>admin.listen</c>, which needs a restart, could).
    /// </summary>
    public static void Use(IApplicationBuilder admin, GatewayState state, bool listenerIsLoopback)
    {
        var logger = admin.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Gatehouse.Admin");
        admin.Use((context, next) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            var options = state.Current.Options.Admin;
            var token = options.Token;
            if (Refusal(context, options) is { } refusal)
            {
                LogRefused(logger, refusal.Problem.Slug);
                return ProblemWriter.WriteAsync(context, refusal.Problem, refusal.Detail);
            }

            if ((token is null && listenerIsLoopback) || context.GetEndpoint()?.Metadata.GetMetadata<AnonymousAdminEndpoint>() is not null)
            {
                return next(context);
            }

            var presented = Presented(context.Request.Headers.Authorization.ToString());
            if (token is not null && presented is not null && TokensEqual(presented, token))
            {
                return next(context);
            }

            return ProblemWriter.WriteAsync(
                context,
                GatewayProblem.Unauthenticated,
                "the admin API needs 'Authorization: Bearer <admin.token>'",
                wwwAuthenticate: presented is null ? Challenge : InvalidTokenChallenge);
        });
    }

    /// <summary>
    /// Requests a browser page could make against the operator (<see cref="AdminRequestGuard"/>), checked before the
    /// token. The Host is checked only without a token: a bearer token is not ambient, so neither a rebinding page
    /// nor a cross-site one can present it, and a token-protected listener is reached by names and addresses
    /// (probes, scrapers) that no list here would know. The state-changing checks cost nothing and apply always.
    /// </summary>
    private static (GatewayProblem Problem, string Detail)? Refusal(HttpContext context, AdminOptions options)
    {
        var request = context.Request;
        var host = request.Headers.Host.ToString();
        if (options.Token is null && !AdminRequestGuard.IsAllowedHost(host, context.Connection.LocalIpAddress, context.Connection.LocalPort, options.AllowedHosts))
        {
            return (GatewayProblem.HostNotAllowed, "the admin listener has no token and answers only to its own address, localhost, 127.0.0.1, [::1] (with its port) and admin.allowedHosts");
        }

        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method))
        {
            return null;
        }

        var origin = request.Headers.Origin;
        if (origin.Count > 1 || AdminRequestGuard.IsCrossSite(origin.ToString(), origin.Count == 1, request.Headers["Sec-Fetch-Site"].ToString(), host))
        {
            return (GatewayProblem.CrossSiteRequest, "state-changing admin requests are refused from other sites (Origin, Sec-Fetch-Site)");
        }

        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true && !AdminRequestGuard.IsJson(request.ContentType))
        {
            return (GatewayProblem.UnsupportedMediaType, "an admin request body must be 'Content-Type: application/json'");
        }

        return null;
    }

    [LoggerMessage(EventId = Observability.LogEvents.AdminRequestRefused, Level = LogLevel.Warning, Message = "Admin request refused ({Problem}): a browser page on another site or name may be trying to use the admin API")]
    private static partial void LogRefused(ILogger logger, string problem);

    private static string? Presented(string authorization) =>
        authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;

    /// <summary>Constant time, and over fixed-length digests so that not even the token's length leaks.</summary>
    internal static bool TokensEqual(string presented, string token) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}

/// <summary>Marks an admin endpoint that needs no token.</summary>
internal sealed class AnonymousAdminEndpoint;
