using Gatehouse.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Authentication;

// The identity unit's four stages, each built per route only where it has work (a config without any identity
// feature has none of them). The route's auth, else the top-level default; a request no route matched is
// authenticated against the default too, so with a default in force an unknown path answers 401, not 404.

/// <summary>Authentication on routes whose auth (own or default) is not anonymous.</summary>
internal sealed class AuthenticationStage(ILogger<AuthenticationMiddleware> logger) : IGatewayStage
{
    public RequestDelegate Build(StageContext context, RequestDelegate next) =>
        context.Snapshot.Identity is { } identity && EffectiveAuth(context) is { Anonymous: false } auth
            ? new AuthenticationMiddleware(next, identity, auth, context.Route?.Name ?? "?", logger).InvokeAsync
            : next;

    internal static AuthPolicy? EffectiveAuth(StageContext context) => context.Route?.Auth ?? context.Snapshot.Identity?.DefaultAuth;
}

/// <summary>Authorization on authenticating routes that require scopes, claims or roles.</summary>
internal sealed class AuthorizationStage : IGatewayStage
{
    public RequestDelegate Build(StageContext context, RequestDelegate next) =>
        context.Snapshot.Identity is not null && AuthenticationStage.EffectiveAuth(context) is { Anonymous: false, HasRequirements: true } auth
            ? new AuthorizationMiddleware(next, auth).InvokeAsync
            : next;
}

/// <summary>Identity-header stripping on every route (and unmatched request) of a config that uses identity.</summary>
internal sealed class IdentityHeadersStage : IGatewayStage
{
    public RequestDelegate Build(StageContext context, RequestDelegate next) =>
        context.Snapshot.Identity is { } identity
            ? new IdentityHeadersMiddleware(next, identity, AuthenticationStage.EffectiveAuth(context) is { Anonymous: false, StripAuthorization: true }).InvokeAsync
            : next;
}

/// <summary>Claim forwarding on authenticating routes with <c>forwardClaims</c>.</summary>
internal sealed class ClaimForwardingStage : IGatewayStage
{
    public RequestDelegate Build(StageContext context, RequestDelegate next) =>
        context.Snapshot.Identity is not null && context.Route?.ForwardClaims is { } forward && AuthenticationStage.EffectiveAuth(context) is { Anonymous: false }
            ? new ClaimForwardingMiddleware(next, forward).InvokeAsync
            : next;
}
