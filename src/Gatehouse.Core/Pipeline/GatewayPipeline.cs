using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Policies.Authentication;
using Gatehouse.Policies.Caching;
using Gatehouse.Policies.IpFilter;
using Gatehouse.Policies.PathFilter;
using Gatehouse.Policies.RateLimiting;
using Gatehouse.Policies.RequestLimits;
using Gatehouse.Policies.Resilience;
using Gatehouse.Proxy;
using Gatehouse.Redis;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Configuration;

namespace Gatehouse.Pipeline;

/// <summary>
/// THE place where the order of the gateway's stages is fixed. Routes list their policies as a set; the order
/// here decides when each runs. A new policy adds one line in its place below and reads its compiled form from
/// the endpoint's metadata (see <see cref="CompiledRoute"/>).
/// </summary>
internal static class GatewayPipeline
{
    public static void AddGatewayServices(IServiceCollection services)
    {
        services.AddSingleton<IProxyConfigProvider, GatewayProxyConfigProvider>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<AuthenticationMetrics>();
        services.AddSingleton<IdentityProviderRegistry>();
        services.AddSingleton<RedisConnections>();
        services.AddSingleton<RateLimitMetrics>();
        services.AddSingleton<RateLimiterRegistry>();
        services.AddSingleton<ResilienceMetrics>();
        services.AddSingleton<CircuitBreakerRegistry>();
        services.AddSingleton<CacheMetrics>();
        services.AddSingleton<ResponseCache>();
        services.AddSingleton<Yarp.ReverseProxy.Health.IPassiveHealthCheckPolicy, ConsecutiveFailuresPassivePolicy>();

        // Before AddReverseProxy, whose own registration only fills the slot when it is empty.
        services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory, ConnectTimeoutHttpClientFactory>();
        services.AddReverseProxy()
            .AddTransforms<GatewayTransformProvider>()
            .AddTransforms<PathDenyTransformProvider>()
            .AddTransforms<ResilienceTransformProvider>()
            .AddTransforms<DeferredResponseHeadersTransformProvider>()
            .AddTransforms<Observability.ObservabilityTransformProvider>()
            .AddTransforms<Policies.Transcoding.GrpcTranscodingTransformProvider>();
    }

    /// <summary>Gives a compiled snapshot what it needs at run time (its rate limiters) before it goes live.</summary>
    public static async Task PrepareAsync(IServiceProvider services, GatewaySnapshot snapshot)
    {
        await services.GetRequiredService<RateLimiterRegistry>().AttachAsync(snapshot);
        await services.GetRequiredService<ResponseCache>().AttachAsync(snapshot);
    }

    public static void UseGateway(WebApplication app)
    {
        app.UseMiddleware<GatewayErrorsMiddleware>();   // request id; problem+json for all the gateway answers itself, forwarding failures included
        app.UseMiddleware<ClientAddressMiddleware>();   // client IP from X-Forwarded-For/Forwarded only via trustedProxies
        app.UseMiddleware<RequestLimitsMiddleware>();   // URL 414, headers 431, ambiguous framing 400: no route needed
        app.UseMiddleware<PathNormalizationMiddleware>(); // one path for routing, deny lists and the backend (%2F, \, //)
        app.UseRouting();                               // YARP routes are endpoints: path, host, method, header, query
        app.UseMiddleware<IpFilterMiddleware>();        // global and route allow/deny lists, 403
        app.UseMiddleware<PathDenyMiddleware>();        // global and route path deny lists, 403
        app.UseMiddleware<AuthenticationMiddleware>();  // API keys and JWT (OIDC discovery/JWKS), 401; scopes, 403; identity headers
        app.UseMiddleware<RateLimitMiddleware>();       // per route, keyed by consumer/claim/IP (after auth), memory or Redis, 429
        app.UseMiddleware<ResponseCacheMiddleware>();   // cache: RFC 9111 shared cache, memory or Redis; coalescing, stale-while-revalidate/-if-error
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<RouteBodyLimitMiddleware>();   // the route's body limit, 413
            proxy.UseMiddleware<UpgradeGuardMiddleware>();     // Upgrade only for WebSocket routes
            proxy.UseMiddleware<Policies.Transcoding.GrpcTranscodingMiddleware>(); // REST/JSON → gRPC request on transcode routes (response: its transform)
            proxy.UseMiddleware<ResilienceMiddleware>();       // breaker 503/fallback, bulkhead 503, timeouts 504, retries (each try load-balanced again)
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        }).ConfigureEndpoints((endpoint, route) =>
        {
            if (route.Metadata is RouteMetadata metadata)
            {
                endpoint.Add(b => b.Metadata.Add(metadata.Route));
            }
        });
    }
}
