using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Pipeline;
using Gatehouse.Policies.Authentication;
using Gatehouse.Policies.IpFilter;
using Gatehouse.Policies.PathFilter;
using Gatehouse.Policies.RateLimiting;
using Gatehouse.Policies.RequestLimits;
using Gatehouse.Policies.Resilience;
using Gatehouse.Proxy;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Gatehouse.Configuration;

/// <summary>
/// Compiles validated options into a complete, immutable <see cref="GatewaySnapshot"/>: YARP routes and clusters, every
/// policy with its runtime objects (reused from the snapshot in force through <see cref="RuntimeObjects"/>), and each
/// route's stage plans (<see cref="GatewayPipeline"/>). The one compile path: <c>run</c>, reloads, <c>validate</c> and
/// <c>explain</c> all come through here.
/// </summary>
internal static class GatewayCompiler
{
    /// <summary>For tests and tools: compiles with the standalone services, to be judged, not served.</summary>
    public static GatewaySnapshot Compile(GatewayOptions options, string source, long generation, GatewaySnapshot? previous = null) =>
        CompileAsync(options, source, generation, previous, GatewayPipeline.StandaloneServices, checkOnly: true).AsTask().GetAwaiter().GetResult();

    /// <param name="previous">The snapshot in force, whose runtime objects are kept where their settings did not change.</param>
    /// <param name="services">The gateway's services: policy compilers and stages.</param>
    /// <param name="checkOnly">Compiled to be judged (validate, explain): nothing connects anywhere.</param>
    public static async ValueTask<GatewaySnapshot> CompileAsync(GatewayOptions options, string source, long generation, GatewaySnapshot? previous, IServiceProvider services, bool checkOnly)
    {
        var runtime = new RuntimeObjects(previous) { CheckOnly = checkOnly };
        try
        {
            return await CompileAsync(options, source, generation, services, runtime);
        }
        catch
        {
            runtime.Abandon();
            throw;
        }
    }

    private static async ValueTask<GatewaySnapshot> CompileAsync(GatewayOptions options, string source, long generation, IServiceProvider services, RuntimeObjects runtime)
    {
        var time = services.GetRequiredService<TimeProvider>();
        var limits = options.Limits;
        var resilience = new Dictionary<string, ServiceResilience>(StringComparer.Ordinal);
        foreach (var service in options.Services)
        {
            if (ServiceResilience.Compile(service, runtime, time) is { } compiledService)
            {
                resilience[service.Name] = compiledService;
            }
        }

        var jwt = services.GetRequiredService<JwtValidatorFactory>();
        var validators = new Dictionary<IdentityProviderOptions, JwtValidator>(ReferenceEqualityComparer.Instance);
        JwtValidator ValidatorFor(IdentityProviderOptions provider) =>
            validators.TryGetValue(provider, out var made) ? made : validators[provider] = jwt.Create(provider, runtime);

        var cache = services.GetRequiredService<Policies.Caching.ResponseCache>();
        cache.Resize(options.Cache, runtime);
        var maxBody = limits.MaxBodyBytes ?? RequestLimitsOptions.Defaults.MaxBodyBytes!.Value;
        var routes = new List<RouteConfig>(options.Routes.Count);
        var compiled = new Dictionary<string, CompiledRoute>(StringComparer.Ordinal);
        var rateLimits = await services.GetRequiredService<RateLimitCompiler>().CompileAsync(options, runtime);
        var policyCompilers = services.GetServices<IRoutePolicyCompiler>().ToArray();
        for (var i = 0; i < options.Routes.Count; i++)
        {
            var route = options.Routes[i];
            var policies = new List<object>();
            foreach (var policyCompiler in policyCompilers)
            {
                if (await policyCompiler.CompileAsync(new RouteCompilation(options, route, runtime)) is { } policy)
                {
                    policies.Add(policy);
                }
            }

            var compiledRoute = new CompiledRoute
            {
                Name = route.Name,
                Policies = policies,
                Service = route.Service,
                Options = route,
                MaxBodyBytes = route.Limits?.MaxBodyBytes ?? maxBody,
                WebSockets = route.WebSockets,
                IpFilter = IpFilterPolicy.Compile(route.IpFilter),
                DeniedPaths = route.Deny is null ? null : new PathDenyList(route.Deny.Paths),
                Auth = AuthPolicy.Compile(route.Auth, options.IdentityProviders, ValidatorFor),
                ForwardClaims = route.ForwardClaims.Count == 0 ? null : route.ForwardClaims.ToArray(),
                RateLimits = route.RateLimit.Count == 0 ? null : new RouteRateLimits(route.RateLimit.Select(name => rateLimits[name]).ToArray()),
                Resilience = RouteResilience.Compile(route, resilience.GetValueOrDefault(route.Service), route.Service),
            };
            compiled[route.Name] = compiledRoute;
            routes.Add(new RouteConfig
            {
                RouteId = route.Name,
                ClusterId = route.Service,

                // File order decides: the first route that matches wins (as in Envoy), whatever the templates' precedence.
                Order = i,
                Match = CompileMatch(route.Match),
                Transforms = CompileTransforms(route),
                Metadata = new RouteMetadata(compiledRoute, generation),
            });
        }

        var snapshot = new GatewaySnapshot
        {
            Options = options,
            Generation = generation,
            Hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source))),
            Source = source,
            LoadedAt = DateTimeOffset.UtcNow,
            ProxyRoutes = routes,
            ProxyClusters = options.Services.Select(CompileCluster).ToList(),
            Routes = compiled.ToFrozenDictionary(StringComparer.Ordinal),
            Resilience = resilience.ToFrozenDictionary(StringComparer.Ordinal),
            TrustedProxies = IpRanges.ParseAll(options.TrustedProxies),
            IpFilter = IpFilterPolicy.Compile(options.IpFilter),
            DeniedPaths = options.Deny is null ? null : new PathDenyList(options.Deny.Paths),
            Identity = IdentityPolicy.Compile(options, ValidatorFor),
            RateLimits = rateLimits,
            MaxUrlBytes = limits.MaxUrlBytes ?? RequestLimitsOptions.Defaults.MaxUrlBytes!.Value,
            MaxHeaderBytes = limits.MaxHeaderBytes ?? RequestLimitsOptions.Defaults.MaxHeaderBytes!.Value,
            MaxBodyBytes = maxBody,
            Runtime = runtime.Freeze(),
        };

        // The plans last: each stage is built with the route's policies and the snapshot's global ones, of this generation.
        var terminals = services.GetRequiredService<StagePlanTerminals>();
        snapshot.Complete(GatewayPipeline.RouteStages(new StagePlan(services, new StageContext(snapshot, null)), terminals));
        foreach (var route in compiled.Values)
        {
            route.Complete(snapshot, r => (
                GatewayPipeline.RouteStages(new StagePlan(services, new StageContext(snapshot, r)), terminals),
                GatewayPipeline.ProxyStages(new StagePlan(services, new StageContext(snapshot, r)), terminals)));
        }

        return snapshot;
    }

    private static RouteMatch CompileMatch(MatchOptions match) => new()
    {
        Path = match.Path,
        Methods = match.Methods.Count == 0 ? null : match.Methods.ToList(),
        Hosts = match.Hosts.Count == 0 ? null : match.Hosts.ToList(),
        Headers = match.Headers.Count == 0 ? null : match.Headers.Select(h => new RouteHeader
        {
            Name = h.Name,
            Values = h.Values.Count == 0 ? null : h.Values.ToList(),
            IsCaseSensitive = h.CaseSensitive,
            Mode = h.Mode switch
            {
                ValueMatchMode.Prefix => HeaderMatchMode.HeaderPrefix,
                ValueMatchMode.Contains => HeaderMatchMode.Contains,
                ValueMatchMode.NotContains => HeaderMatchMode.NotContains,
                ValueMatchMode.Exists => HeaderMatchMode.Exists,
                ValueMatchMode.NotExists => HeaderMatchMode.NotExists,
                _ => HeaderMatchMode.ExactHeader,
            },
        }).ToList(),
        QueryParameters = match.Query.Count == 0 ? null : match.Query.Select(q => new RouteQueryParameter
        {
            Name = q.Name,
            Values = q.Values.Count == 0 ? null : q.Values.ToList(),
            IsCaseSensitive = q.CaseSensitive,
            Mode = q.Mode switch
            {
                ValueMatchMode.Prefix => QueryParameterMatchMode.Prefix,
                ValueMatchMode.Contains => QueryParameterMatchMode.Contains,
                ValueMatchMode.NotContains => QueryParameterMatchMode.NotContains,
                ValueMatchMode.Exists => QueryParameterMatchMode.Exists,
                _ => QueryParameterMatchMode.Exact,
            },
        }).ToList(),
    };

    /// <summary>Route edits become YARP's own transforms, so YARP validates and runs them.</summary>
    private static List<IReadOnlyDictionary<string, string>> CompileTransforms(RouteOptions route)
    {
        var transforms = new List<IReadOnlyDictionary<string, string>>();
        if (route.Rewrite?.Path is { } path)
        {
            transforms.Add(new Dictionary<string, string> { ["PathPattern"] = path });
        }

        if (route.Rewrite?.StripPrefix is { } prefix)
        {
            transforms.Add(new Dictionary<string, string> { ["PathRemovePrefix"] = prefix });
        }

        if (route.Headers is { } request)
        {
            transforms.AddRange(request.Set.Select(h => new Dictionary<string, string> { ["RequestHeader"] = h.Key, ["Set"] = h.Value }));
            transforms.AddRange(request.Add.Select(h => new Dictionary<string, string> { ["RequestHeader"] = h.Key, ["Append"] = h.Value }));
            transforms.AddRange(request.Remove.Select(h => new Dictionary<string, string> { ["RequestHeaderRemove"] = h }));
        }

        if (route.ResponseHeaders is { } response)
        {
            transforms.AddRange(response.Set.Select(h => new Dictionary<string, string> { ["ResponseHeader"] = h.Key, ["Set"] = h.Value, ["When"] = "Always" }));
            transforms.AddRange(response.Add.Select(h => new Dictionary<string, string> { ["ResponseHeader"] = h.Key, ["Append"] = h.Value, ["When"] = "Always" }));
            transforms.AddRange(response.Remove.Select(h => new Dictionary<string, string> { ["ResponseHeaderRemove"] = h, ["When"] = "Always" }));
        }

        return transforms;
    }

    private static Dictionary<string, string>? ClusterMetadata(ServiceOptions service)
    {
        if (service.HealthCheck is null && service.Timeout?.Connect is null && service.Tls?.CaPem is null)
        {
            return null;
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (service.HealthCheck is { } health)
        {
            metadata["ConsecutiveFailuresHealthPolicy.Threshold"] = health.UnhealthyAfter.ToString(CultureInfo.InvariantCulture);
            if (health.EjectAfterFailures is { } eject)
            {
                metadata[ConsecutiveFailuresPassivePolicy.ThresholdKey] = eject.ToString(CultureInfo.InvariantCulture);
            }
        }

        if (service.Timeout?.Connect is { } connect)
        {
            metadata[BackendHttpClientFactory.MetadataKey] = connect.TotalMilliseconds.ToString(CultureInfo.InvariantCulture);
        }

        if (service.Tls?.CaPem is { } caPem)
        {
            metadata[BackendHttpClientFactory.CaCertificatesKey] = caPem;
        }

        return metadata;
    }

    private static ClusterConfig CompileCluster(ServiceOptions service)
    {
        var health = service.HealthCheck;
        return new ClusterConfig
        {
            ClusterId = service.Name,
            LoadBalancingPolicy = service.LoadBalancing switch
            {
                LoadBalancingMode.RoundRobin => LoadBalancingPolicies.RoundRobin,
                LoadBalancingMode.LeastRequests => LoadBalancingPolicies.LeastRequests,
                LoadBalancingMode.Random => LoadBalancingPolicies.Random,
                LoadBalancingMode.First => LoadBalancingPolicies.FirstAlphabetical,
                _ => LoadBalancingPolicies.PowerOfTwoChoices,
            },
            Destinations = service.Targets.ToDictionary(
                t => t.Url,
                t => new DestinationConfig { Address = t.Url, Health = t.HealthUrl },
                StringComparer.OrdinalIgnoreCase),
            HealthCheck = health is null ? null : new HealthCheckConfig
            {
                // YARP defaults to HealthyOrPanic, which quietly sends traffic to dead targets; the gateway answers 503 unless asked.
                AvailableDestinationsPolicy = health.TryAllWhenAllUnhealthy
                    ? HealthCheckConstants.AvailableDestinations.HealthyOrPanic
                    : HealthCheckConstants.AvailableDestinations.HealthyAndUnknown,
                Active = health.Path is null ? null : new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = health.Interval,
                    Timeout = health.Timeout,
                    Path = health.Path,
                    Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                },
                Passive = health.Passive ? new PassiveHealthCheckConfig
                {
                    Enabled = true,
                    Policy = health.EjectAfterFailures is null ? HealthCheckConstants.PassivePolicy.TransportFailureRate : ConsecutiveFailuresPassivePolicy.PolicyName,
                    ReactivationPeriod = health.ReactivationPeriod,
                } : null,
            },
            Metadata = ClusterMetadata(service),
            HttpRequest = new ForwarderRequestConfig
            {
                ActivityTimeout = service.Timeout?.Idle,
                // gRPC is HTTP/2 only: exactly 2.0 gives h2c with prior knowledge to http:// targets and ALPN h2 over TLS.
                Version = service.Protocol == Policies.Transcoding.ServiceProtocol.Grpc ? System.Net.HttpVersion.Version20 : service.HttpVersion switch
                {
                    "1.1" => System.Net.HttpVersion.Version11,
                    "2" => System.Net.HttpVersion.Version20,
                    _ => null,
                },
                VersionPolicy = service.Protocol == Policies.Transcoding.ServiceProtocol.Grpc ? HttpVersionPolicy.RequestVersionExact : service.HttpVersion switch
                {
                    "1.1" => HttpVersionPolicy.RequestVersionOrLower,
                    "2" => HttpVersionPolicy.RequestVersionExact,
                    _ => null,
                },
            },
        };
    }
}
