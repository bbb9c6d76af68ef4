using System.Text.Json;

namespace Gatehouse.Errors;

/// <summary>
/// The catalogue of responses the gateway itself makes. Each cause has a stable <c>type</c> URI (RFC 9457) that
/// clients and dashboards can switch on; docs/errors.md describes each one.
/// </summary>
internal sealed class GatewayProblem
{
    private const string TypeBase = "https://gatehouse.dev/problems/";

    public static readonly GatewayProblem BadRequest = new("bad-request", 400, "Bad request");
    public static readonly GatewayProblem AmbiguousFraming = new("ambiguous-framing", 400, "Ambiguous request framing");
    public static readonly GatewayProblem RequestTimeout = new("request-timeout", 408, "The client was too slow sending the request");
    public static readonly GatewayProblem Unauthenticated = new("unauthenticated", 401, "Authentication required");
    public static readonly GatewayProblem AccessDenied = new("access-denied", 403, "The caller is not allowed on this route");
    public static readonly GatewayProblem InsufficientScope = new("insufficient-scope", 403, "The caller lacks a required scope");
    public static readonly GatewayProblem IdentityProviderUnavailable = new("identity-provider-unavailable", 503, "The identity provider cannot be reached");
    public static readonly GatewayProblem IpDenied = new("ip-denied", 403, "The client address is not allowed");
    public static readonly GatewayProblem PathDenied = new("path-denied", 403, "This path is not served");
    public static readonly GatewayProblem NoRoute = new("no-route", 404, "No route matches the request");
    public static readonly GatewayProblem MethodNotAllowed = new("method-not-allowed", 405, "Method not allowed on this route");
    public static readonly GatewayProblem BodyTooLarge = new("body-too-large", 413, "Request body too large");
    public static readonly GatewayProblem UrlTooLong = new("url-too-long", 414, "Request URL too long");
    public static readonly GatewayProblem HeadersTooLarge = new("headers-too-large", 431, "Request headers too large");
    public static readonly GatewayProblem RateLimited = new("rate-limited", 429, "Too many requests");
    public static readonly GatewayProblem RateLimitUnavailable = new("rate-limit-unavailable", 503, "The shared rate-limit store cannot be reached");
    public static readonly GatewayProblem Internal = new("internal-error", 500, "Internal gateway error");
    public static readonly GatewayProblem BadGateway = new("bad-gateway", 502, "The backend could not be reached or failed");
    public static readonly GatewayProblem NoHealthyTarget = new("no-healthy-target", 503, "No healthy backend target");
    public static readonly GatewayProblem GatewayTimeout = new("gateway-timeout", 504, "The backend did not answer in time");
    public static readonly GatewayProblem CircuitOpen = new("circuit-open", 503, "The service is failing and is not called for now");
    public static readonly GatewayProblem HostNotAllowed = new("host-not-allowed", 403, "The admin listener does not answer to this host name");
    public static readonly GatewayProblem CrossSiteRequest = new("cross-site-request", 403, "Cross-site requests to the admin API are refused");
    public static readonly GatewayProblem UnsupportedMediaType = new("unsupported-media-type", 415, "The request body must be application/json");
    public static readonly GatewayProblem ServiceOverloaded = new("service-overloaded", 503, "The service has too many requests in flight");

    private GatewayProblem(string slug, int status, string title)
    {
        Slug = slug;
        Status = status;
        Title = title;
        Type = JsonEncodedText.Encode(TypeBase + slug);
        EncodedTitle = JsonEncodedText.Encode(title);
    }

    public string Slug { get; }

    public int Status { get; }

    public string Title { get; }

    public JsonEncodedText Type { get; }

    public JsonEncodedText EncodedTitle { get; }

    private static readonly GatewayProblem[] GrpcProblems = Policies.Transcoding.GrpcStatusCodes.Names
        .Select((name, code) => new GatewayProblem("grpc-" + name.ToLowerInvariant().Replace('_', '-'), Policies.Transcoding.GrpcStatusCodes.ToHttpStatus(code), $"The gRPC backend answered {name}"))
        .ToArray();

    /// <summary>A gRPC backend's error status on a transcoded REST call, with the standard google.rpc HTTP mapping.</summary>
    public static GatewayProblem ForGrpcStatus(int code) => (uint)code < (uint)GrpcProblems.Length ? GrpcProblems[code] : GrpcProblems[2];

    /// <summary>The problem for a status code that the framework produced without a body (e.g. 405 from routing).</summary>
    public static GatewayProblem ForStatus(int status) => status switch
    {
        400 => BadRequest,
        401 => Unauthenticated,
        404 => NoRoute,
        408 => RequestTimeout,
        405 => MethodNotAllowed,
        413 => BodyTooLarge,
        414 => UrlTooLong,
        431 => HeadersTooLarge,
        502 => BadGateway,
        503 => NoHealthyTarget,
        504 => GatewayTimeout,
        500 => Internal,
        _ => new GatewayProblem($"http-{status}", status, Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } p ? p : "Error"),
    };
}
