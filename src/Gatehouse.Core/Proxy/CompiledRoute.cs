using Gatehouse.Configuration;
using Gatehouse.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy;

/// <summary>
/// A route's compiled policies and its stage plans, attached to its YARP endpoint as metadata and, after routing,
/// set as the request's <see cref="IGatewayRouteFeature"/>. The route and its policies always come from the same
/// snapshot because they travel on the same endpoint, and the route knows the snapshot it was compiled in.
/// </summary>
internal sealed class CompiledRoute : IGatewayRouteFeature
{
    private GatewaySnapshot? _snapshot;
    private RequestDelegate? _stages;
    private RequestDelegate? _proxyStages;

    /// <summary>The snapshot this route was compiled in (its global policies are of the same generation).</summary>
    public GatewaySnapshot Snapshot => _snapshot ?? throw new InvalidOperationException($"route '{Name}' is still being compiled");

    CompiledRoute? IGatewayRouteFeature.Route => this;

    /// <summary>The stages this route uses after routing, in the order of <see cref="GatewayPipeline"/>, ending in its endpoint.</summary>
    public RequestDelegate Stages => _stages ?? throw new InvalidOperationException($"route '{Name}' is still being compiled");

    /// <summary>The stages this route uses in YARP's proxy pipeline, ending in load balancing.</summary>
    public RequestDelegate ProxyStages => _proxyStages ?? throw new InvalidOperationException($"route '{Name}' is still being compiled");

    /// <summary>
    /// Called once by the compiler when the snapshot exists (the route and its snapshot refer to each other), before
    /// the snapshot is returned: no request ever sees a route without its plans.
    /// </summary>
    internal void Complete(GatewaySnapshot snapshot, Func<CompiledRoute, (RequestDelegate Stages, RequestDelegate ProxyStages)> plans)
    {
        if (_snapshot is not null)
        {
            throw new InvalidOperationException($"route '{Name}' was already compiled");
        }

        _snapshot = snapshot;
        (_stages, _proxyStages) = plans(this);
    }

    public required string Name { get; init; }

    /// <summary>The route's compiled policies from the units' <see cref="IRoutePolicyCompiler"/>s, one item each; also endpoint metadata.</summary>
    public IReadOnlyList<object> Policies { get; init; } = [];

    /// <summary>The route's compiled policy of type <typeparamref name="T"/>, or null. A linear search: for building stages and transforms, not per request.</summary>
    public T? Policy<T>()
        where T : class
    {
        foreach (var policy in Policies)
        {
            if (policy is T found)
            {
                return found;
            }
        }

        return null;
    }

    public required string Service { get; init; }

    public required RouteOptions Options { get; init; }

    /// <summary>Effective body limit: the route's, else the global one.</summary>
    public required long MaxBodyBytes { get; init; }

    public required bool WebSockets { get; init; }

    /// <summary>The route's IP filter, or null.</summary>
    public Policies.IpFilter.IpFilterPolicy? IpFilter { get; init; }

    /// <summary>The route's path deny list, or null.</summary>
    public Policies.PathFilter.PathDenyList? DeniedPaths { get; init; }

    /// <summary>The route's own authentication, or null to use the top-level default.</summary>
    public Policies.Authentication.AuthPolicy? Auth { get; init; }

    /// <summary>The route's rate limits in order, or null.</summary>
    public Policies.RateLimiting.RouteRateLimits? RateLimits { get; init; }

    /// <summary>Claim → header pairs sent to the backend, or null.</summary>
    public KeyValuePair<string, string>[]? ForwardClaims { get; init; }

    /// <summary>The service's breaker, retries, bulkhead and the route's response timeout and fallback; null when none apply.</summary>
    public Policies.Resilience.RouteResilience? Resilience { get; init; }

    /// <summary>The route's response cache, or null.</summary>
    public Policies.Caching.CachePolicy? Cache => Policy<Policies.Caching.CachePolicy>();
    /// <summary>REST/JSON → gRPC mapping for routes with <c>transcode: grpc</c>, or null.</summary>
    public Policies.Transcoding.GrpcTranscoder? Transcoder => Policy<Policies.Transcoding.GrpcTranscoder>();
}
