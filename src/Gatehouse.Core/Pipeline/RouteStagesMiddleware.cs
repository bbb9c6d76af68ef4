using Gatehouse.Configuration;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Pipeline;

/// <summary>
/// Right after routing: sets the request's <see cref="IGatewayRouteFeature"/> (the matched route, which carries the
/// snapshot it was compiled in; or, when no route matched, the snapshot in force) and runs that route's own stages.
/// The one place after routing that reads <see cref="GatewayState.Current"/>, and only for unmatched requests.
/// </summary>
internal sealed class RouteStagesMiddleware
{
    private readonly GatewayState _state;

    public RouteStagesMiddleware(RequestDelegate next, GatewayState state, StagePlanTerminals terminals)
    {
        _state = state;
        terminals.SetAfterRouteStages(next);
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<CompiledRoute>() is { } route)
        {
            context.Features.Set<IGatewayRouteFeature>(route);
            return route.Stages(context);
        }

        var snapshot = _state.Current;
        context.Features.Set<IGatewayRouteFeature>(snapshot);
        return snapshot.UnmatchedStages(context);
    }
}
