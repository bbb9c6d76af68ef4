using Gatehouse.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Resilience;

/// <summary>The resilience stage, in the proxy stages of routes whose service (or the route itself) uses any of it.</summary>
internal sealed class ResilienceStage(ILogger<ResilienceMiddleware> logger, ResilienceMetrics metrics) : IGatewayStage
{
    public RequestDelegate Build(StageContext context, RequestDelegate next) =>
        context.Route is { Resilience: { } policy } route ? new ResilienceMiddleware(next, policy, route.Name, logger, metrics).InvokeAsync : next;
}
