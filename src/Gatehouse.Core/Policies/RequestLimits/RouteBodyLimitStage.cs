using Gatehouse.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.RequestLimits;

/// <summary>The route's body limit (its own, else the global one, compiled into <see cref="Proxy.CompiledRoute.MaxBodyBytes"/>), on every route.</summary>
internal sealed class RouteBodyLimitStage(ILogger<RouteBodyLimitMiddleware> logger) : IGatewayStage
{
    public RequestDelegate Build(StageContext context, RequestDelegate next) =>
        context.Route is { } route ? new RouteBodyLimitMiddleware(next, route.MaxBodyBytes, route.Name, logger).InvokeAsync : next;
}
