using Gatehouse.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Policies.Caching;

/// <summary>The response cache stage, on routes with <c>cache</c> only.</summary>
internal sealed class ResponseCacheStage(IServiceProvider services) : IGatewayStage
{
    public RequestDelegate Build(StageContext context, RequestDelegate next) =>
        context.Route?.Cache is { } policy
            ? ActivatorUtilities.CreateInstance<ResponseCacheMiddleware>(services, next, policy).InvokeAsync
            : next;
}
