using Microsoft.AspNetCore.Http;

namespace Gatehouse.Pipeline;

/// <summary>
/// Where the per-route plans continue: the rest of the application's pipeline after the route stages (the endpoint),
/// and YARP's load balancing after the proxy stages. Plans are compiled with a snapshot, before or after the
/// application's pipeline is built, so they end in this indirection, filled in when the two plan middlewares are made.
/// </summary>
internal sealed class StagePlanTerminals
{
    private RequestDelegate? _afterRouteStages;
    private RequestDelegate? _afterProxyStages;

    public RequestDelegate AfterRouteStages { get; }

    public RequestDelegate AfterProxyStages { get; }

    public StagePlanTerminals()
    {
        AfterRouteStages = context => _afterRouteStages!(context);
        AfterProxyStages = context => _afterProxyStages!(context);
    }

    public void SetAfterRouteStages(RequestDelegate next) => _afterRouteStages = next;

    public void SetAfterProxyStages(RequestDelegate next) => _afterProxyStages = next;
}
