using Gatehouse.Configuration;
using Gatehouse.Pipeline;
using Gatehouse.Policies.Authentication;
using Gatehouse.Policies.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Core.Tests.Pipeline;

public class StagePlanTests
{
    private const string Yaml = """
        listen: ["http://127.0.0.1:0"]
        consumers:
          app: { apiKeys: ["sha256:0000000000000000000000000000000000000000000000000000000000000000"] }
        rateLimits:
          per-ip: { limit: 10, window: 1s, key: ip }
        services:
          s: { targets: ["http://127.0.0.1:1"] }
        routes:
          - name: limited
            match: { path: "/limited/{**rest}" }
            service: s
            auth: { providers: [apiKey] }
            rateLimit: [per-ip]
          - { name: plain, match: { path: "/{**rest}" }, service: s }
        """;

    private static GatewaySnapshot Compile() => GatewayCompiler.Compile(ConfigLoader.Load(Yaml, "t.yaml", _ => null), Yaml, 1);

    [Fact]
    public void RouteStages_RouteWithoutPolicies_IsJustTheEndpoint()
    {
        var terminals = GatewayPipeline.StandaloneServices.GetRequiredService<StagePlanTerminals>();
        var plain = Compile().Routes["plain"];

        // Identity is in use (consumers), so the strip stage is there; nothing else is.
        Assert.Equal(typeof(IdentityHeadersMiddleware), plain.Stages.Target?.GetType());
        Assert.NotSame(terminals.AfterRouteStages, plain.Stages);
    }

    [Fact]
    public void RouteStages_ConfigWithoutPolicies_EveryRouteIsJustTheEndpoint()
    {
        const string yaml = """
            listen: ["http://127.0.0.1:0"]
            services:
              s: { targets: ["http://127.0.0.1:1"] }
            routes:
              - { name: plain, match: { path: "/{**rest}" }, service: s }
            """;
        var terminals = GatewayPipeline.StandaloneServices.GetRequiredService<StagePlanTerminals>();
        var snapshot = GatewayCompiler.Compile(ConfigLoader.Load(yaml, "t.yaml", _ => null), yaml, 1);

        Assert.Same(terminals.AfterRouteStages, snapshot.Routes["plain"].Stages);
        Assert.Same(terminals.AfterRouteStages, snapshot.UnmatchedStages);
    }

    [Fact]
    public void RouteStages_RouteWithAuthAndRateLimit_RunsThemInTheFixedOrder()
    {
        var limited = Compile().Routes["limited"];

        Assert.Equal(typeof(AuthenticationMiddleware), limited.Stages.Target?.GetType());
        Assert.NotNull(limited.RateLimits);
    }

    [Fact]
    public void Compile_RouteAndSnapshot_AreOfOneGeneration()
    {
        var snapshot = Compile();

        Assert.All(snapshot.Routes.Values, route => Assert.Same(snapshot, route.Snapshot));
        Assert.All(snapshot.Routes.Values, route => Assert.Same(route, ((IGatewayRouteFeature)route).Route));
        Assert.Null(((IGatewayRouteFeature)snapshot).Route);
    }

    [Fact]
    public void Compile_Reload_KeepsRateLimitCountersWhileTheirSettingsHold()
    {
        var first = Compile();
        var second = GatewayCompiler.Compile(first.Options, Yaml, 2, first);
        var changedYaml = Yaml.Replace("limit: 10", "limit: 11", StringComparison.Ordinal);
        var third = GatewayCompiler.Compile(ConfigLoader.Load(changedYaml, "t.yaml", _ => null), changedYaml, 3, second);

        Assert.Same(first.RateLimits["per-ip"].Limiter, second.RateLimits["per-ip"].Limiter);
        Assert.NotSame(second.RateLimits["per-ip"].Limiter, third.RateLimits["per-ip"].Limiter);
        Assert.IsType<MemoryRateLimiter>(third.RateLimits["per-ip"].Limiter);
    }
}
