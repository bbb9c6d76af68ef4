using Gatehouse.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy;

/// <summary>The upgrade guard, on every route (whether it allows WebSockets is compiled in).</summary>
internal sealed class UpgradeGuardStage : IGatewayStage
{
    public RequestDelegate Build(StageContext context, RequestDelegate next) =>
        context.Route is { } route ? new UpgradeGuardMiddleware(next, route.WebSockets).InvokeAsync : next;
}
