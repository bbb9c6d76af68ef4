using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Admin;

/// <summary>
/// The admin listener's bearer token (<c>admin.token</c>). Installed as middleware in front of every admin endpoint,
/// so an endpoint someone adds later is protected unless it says otherwise (<see cref="Anonymous"/>): only the
/// liveness and readiness probes and the dashboard's static page (which holds no data) are.
/// </summary>
internal static class AdminAuth
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
        admin.Use((context, next) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            var token = state.Current.Options.Admin.Token;
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

    private static string? Presented(string authorization) =>
        authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;

    /// <summary>Constant time, and over fixed-length digests so that not even the token's length leaks.</summary>
    internal static bool TokensEqual(string presented, string token) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}

/// <summary>Marks an admin endpoint that needs no token.</summary>
internal sealed class AnonymousAdminEndpoint;
