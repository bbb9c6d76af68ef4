using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Pipeline;

/// <summary>In YARP's proxy pipeline, before load balancing: the matched route's proxy stages (body limit, upgrades, transcoding, resilience).</summary>
internal sealed class ProxyStagesMiddleware
{
    public ProxyStagesMiddleware(RequestDelegate next, StagePlanTerminals terminals) => terminals.SetAfterProxyStages(next);

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "UseMiddleware calls an instance method")]
    public Task InvokeAsync(HttpContext context) =>
        ((CompiledRoute)context.Features.Get<IGatewayRouteFeature>()!).ProxyStages(context);
}
