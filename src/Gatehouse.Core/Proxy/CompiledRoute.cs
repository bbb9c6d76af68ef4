using Gatehouse.Configuration;

namespace Gatehouse.Proxy;

/// <summary>
/// A route's compiled policies, attached to its YARP endpoint as metadata. Middleware reads it with
/// <c>GetEndpoint()?.Metadata.GetMetadata&lt;CompiledRoute&gt;()</c>: the route and its policies always come
/// from the same snapshot because they travel on the same endpoint.
/// </summary>
internal sealed class CompiledRoute
{
    public required string Name { get; init; }

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
    public Policies.Caching.CachePolicy? Cache { get; init; }
    /// <summary>REST/JSON → gRPC mapping for routes with <c>transcode: grpc</c>, or null.</summary>
    public Policies.Transcoding.GrpcTranscoder? Transcoder { get; init; }
}
