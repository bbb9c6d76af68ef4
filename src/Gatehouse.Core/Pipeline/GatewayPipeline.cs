using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Policies.Authentication;
using Gatehouse.Policies.Caching;
using Gatehouse.Policies.IpFilter;
using Gatehouse.Policies.PathFilter;
using Gatehouse.Policies.RateLimiting;
using Gatehouse.Policies.RequestHeaders;
using Gatehouse.Policies.RequestLimits;
using Gatehouse.Policies.Resilience;
using Gatehouse.Policies.Transcoding;
using Gatehouse.Policies.TrustedProxies;
using Gatehouse.Proxy;
using Gatehouse.Redis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Configuration;

namespace Gatehouse.Pipeline;

/// <summary>
/// THE place where the order of the gateway's stages is fixed. Routes list their policies as a set; the order here
/// decides when each runs. Stages before routing run for every request; after routing, each route runs only the
/// stages it uses, chained once per route when a snapshot is compiled (<see cref="RouteStages"/>,
/// <see cref="ProxyStages"/>), so a policy costs nothing on a route that does not use it. A new policy adds its
/// <c>AddGatehouseXxx()</c> below and one <c>Then&lt;XxxStage&gt;()</c> line in its place.
/// </summary>
internal static class GatewayPipeline
{
    public static void AddGatewayServices(IServiceCollection services)
    {
        services.AddSingleton<IProxyConfigProvider, GatewayProxyConfigProvider>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<StagePlanTerminals>();
        services.AddSingleton<RedisConnections>();
        services.AddGatehouseRequestHeaders();
        services.AddGatehouseTrustedProxies();
        services.AddGatehouseIpFilter();
        services.AddGatehousePathFilter();
        services.AddGatehouseRequestLimits();
        services.AddGatehouseAuthentication();
        services.AddGatehouseRateLimiting();
        services.AddGatehouseResponseCache();
        services.AddGatehouseResilience();
        services.AddGatehouseTranscoding();
        services.AddSingleton<UpgradeGuardStage>();

        // YARP transforms run in the order added, after each route's own (rewrite, header edits): first the ones every
        // route gets (Connection-nominated headers out, request id in), then the deny lists on the rewritten path, then
        // what holds back or adds to the backend's answer (retryable 5xx, rate-limit fields), telemetry, and last the
        // transcoder, which replaces the response body.
        services.AddReverseProxy()
            .AddTransforms<GatewayTransformProvider>()
            .AddTransforms<PathDenyTransformProvider>()
            .AddTransforms<ResilienceTransformProvider>()
            .AddTransforms<DeferredResponseHeadersTransformProvider>()
            .AddTransforms<Observability.ObservabilityTransformProvider>()
            .AddTransforms<GrpcTranscodingTransformProvider>();
    }

    /// <summary>
    /// The gateway's services without a listener, for compiling a config that is only judged (<c>validate</c>,
    /// <c>explain</c>, tests): the same compilers and stages as a running gateway, so both judge a config alike.
    /// </summary>
    public static IServiceProvider StandaloneServices => Standalone.Value;

    private static readonly Lazy<IServiceProvider> Standalone = new(() =>
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddMetrics();
        services.AddSingleton(new GatewayState());

        // YARP's validator makes every transform provider; telemetry is there, off.
        var observability = new Observability.ObservabilityOptions();
        services.AddSingleton(observability);
        services.AddSingleton<Observability.GatewayMetrics>();
        services.AddSingleton(sp => new Observability.GatewayTelemetry(observability, sp.GetRequiredService<Observability.GatewayMetrics>(), null));
        AddGatewayServices(services);
        return services.BuildServiceProvider();
    });

    /// <summary>After routing: the stages of one route (or, with no route, of the requests no route matched).</summary>
    public static RequestDelegate RouteStages(StagePlan plan, StagePlanTerminals end) => plan
        .Then<IpFilterStage>()          // global and route allow/deny lists, 403; first, so a denied client learns nothing more (also unmatched requests)
        .Then<PathDenyStage>()          // global and route path deny lists on the normalised path, 403
        .Then<AuthenticationStage>()    // who calls: API key, JWT (OIDC discovery/JWKS), introspection; 401, 503 when keys are unobtainable
        .Then<AuthorizationStage>()     // what the caller may do: scopes, claims, roles; 403
        .Then<IdentityHeadersStage>()   // client-sent identity headers and the API key never reach a backend (after authentication, which reads the key)
        .Then<ClaimForwardingStage>()   // the caller's claims as headers, after the strip so a client cannot forge them
        .Then<RateLimitStage>()         // after auth so keys can be consumers and claims; memory or Redis; 429
        .Then<ResponseCacheStage>()     // after auth and limits: a cached answer goes only to admitted callers, and is counted
        .Build(end.AfterRouteStages);   // then the endpoint: YARP's proxy pipeline below, or routing's 404/405

    /// <summary>In YARP's proxy pipeline, before load balancing: the matched route's proxy stages.</summary>
    public static RequestDelegate ProxyStages(StagePlan plan, StagePlanTerminals end) => plan
        .Then<RouteBodyLimitStage>()    // the route's body limit, 413 (a declared length at once, a chunked body when it crosses it)
        .Then<UpgradeGuardStage>()      // Upgrade only for a WebSocket handshake on a webSockets route: nothing tunnels past the policies
        .Then<GrpcTranscodingStage>()   // REST/JSON → gRPC request on transcode routes (the answer: its transform)
        .Then<ResilienceStage>()        // breaker 503/fallback, bulkhead 503, timeouts 504, retries (each try load-balanced again)
        .Build(end.AfterProxyStages);   // then YARP: load balancing, passive health, the forwarder

    public static void UseGateway(WebApplication app)
    {
        // YARP registers ASP.NET Core authorization (for its own per-route policies, which Gatehouse never sets), so
        // WebApplication would put AuthorizationMiddleware first, before routing, where it has no endpoint to judge
        // and costs an async frame per request (0.3 µs of a routing-only request, bench/foundation.sh profile).
        // Gatehouse authorises in its own stages; this is the key UseAuthorization() sets to say "already added".
        ((IApplicationBuilder)app).Properties["__AuthorizationMiddlewareSet"] = true;
        app.UseMiddleware<RequestLifecycleMiddleware>();     // request id, telemetry frame; problem+json for all the gateway answers itself, forwarding failures included
        app.UseMiddleware<RequestHeadersMiddleware>();    // client-sent overrides, address claims and '_' names out before anything reads them
        app.UseMiddleware<ClientAddressMiddleware>();     // client IP from X-Forwarded-For/Forwarded only via trustedProxies
        app.UseMiddleware<RequestLimitsMiddleware>();     // URL 414, headers 431, ambiguous framing 400: no route needed
        app.UseMiddleware<PathNormalizationMiddleware>(); // one path for routing, deny lists and the backend (%2F, \, //)
        app.UseRouting();                                 // YARP routes are endpoints: path, host, method, header, query
        app.UseMiddleware<RouteStagesMiddleware>();       // the route feature (route + its snapshot, one generation), then the route's stages above
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<ProxyStagesMiddleware>(); // the route's proxy stages above
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        }).ConfigureEndpoints((endpoint, route) =>
        {
            if (route.Metadata is RouteMetadata metadata)
            {
                endpoint.Add(b =>
                {
                    b.Metadata.Add(metadata.Route);
                    foreach (var policy in metadata.Route.Policies)
                    {
                        b.Metadata.Add(policy);
                    }
                });
            }
        });
    }
}
