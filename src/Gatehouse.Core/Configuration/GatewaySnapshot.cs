using System.Collections.Frozen;
using Gatehouse.Pipeline;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Configuration;

namespace Gatehouse.Configuration;

/// <summary>
/// One loaded config, compiled: YARP routes and clusters plus each route's compiled policies. Immutable; a reload
/// builds a new one and swaps it in atomically, so a request sees one whole config, never half of two.
/// </summary>
internal sealed class GatewaySnapshot : IGatewayRouteFeature
{
    private RequestDelegate? _unmatchedStages;

    GatewaySnapshot IGatewayRouteFeature.Snapshot => this;

    CompiledRoute? IGatewayRouteFeature.Route => null;

    /// <summary>The stages a request that no route matched passes (the global IP filter, deny lists, default auth) before its 404/405.</summary>
    public RequestDelegate UnmatchedStages => _unmatchedStages ?? throw new InvalidOperationException("the snapshot is still being compiled");

    /// <summary>Runtime objects of this snapshot's policies (see <see cref="RuntimeObjects"/>), by kind and settings key.</summary>
    public FrozenDictionary<(string Kind, string Key), object> Runtime { get; init; } = FrozenDictionary<(string, string), object>.Empty;

    /// <summary>Called once by the compiler, before the snapshot is returned.</summary>
    internal void Complete(RequestDelegate unmatchedStages)
    {
        if (_unmatchedStages is not null)
        {
            throw new InvalidOperationException("the snapshot was already compiled");
        }

        _unmatchedStages = unmatchedStages;
    }

    public required GatewayOptions Options { get; init; }

    /// <summary>Increases by one with every successful load; part of each route's YARP metadata so endpoints rebuild.</summary>
    public required long Generation { get; init; }

    /// <summary>SHA-256 of the config text, for status and logs.</summary>
    public required string Hash { get; init; }

    public required string Source { get; init; }

    public required DateTimeOffset LoadedAt { get; init; }

    public required IReadOnlyList<RouteConfig> ProxyRoutes { get; init; }

    public required IReadOnlyList<ClusterConfig> ProxyClusters { get; init; }

    public required FrozenDictionary<string, CompiledRoute> Routes { get; init; }

    /// <summary>Compiled resilience (breaker, retry budget, bulkhead) of the services that use any, by service name.</summary>
    public FrozenDictionary<string, Policies.Resilience.ServiceResilience> Resilience { get; init; } = FrozenDictionary<string, Policies.Resilience.ServiceResilience>.Empty;

    /// <summary>Proxies whose forwarding headers are believed; empty by default.</summary>
    public required System.Net.IPNetwork[] TrustedProxies { get; init; }

    /// <summary>The global IP filter, or null.</summary>
    public required Policies.IpFilter.IpFilterPolicy? IpFilter { get; init; }

    /// <summary>The global path deny list, or null.</summary>
    public required Policies.PathFilter.PathDenyList? DeniedPaths { get; init; }

    /// <summary>API keys, default auth and identity headers; null when the config uses none of them.</summary>
    public required Policies.Authentication.IdentityPolicy? Identity { get; init; }

    /// <summary>Rate-limit policies by name, each with its counters.</summary>
    public required FrozenDictionary<string, Policies.RateLimiting.RateLimitPolicy> RateLimits { get; init; }

    /// <summary>Global limits with defaults filled in.</summary>
    public required long MaxUrlBytes { get; init; }

    public required long MaxHeaderBytes { get; init; }

    public required long MaxBodyBytes { get; init; }
}
