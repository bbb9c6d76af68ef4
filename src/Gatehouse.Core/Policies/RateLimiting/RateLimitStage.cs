using Gatehouse.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.RateLimiting;

/// <summary>The rate-limit stage, on routes with a <c>rateLimit</c> list only.</summary>
internal sealed class RateLimitStage(ILogger<RateLimitMiddleware> logger) : IGatewayStage
{
    public RequestDelegate Build(StageContext context, RequestDelegate next) =>
        context.Route is { RateLimits: { } limits } route ? new RateLimitMiddleware(next, limits, route.Name, logger).InvokeAsync : next;
}
