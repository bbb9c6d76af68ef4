using Gatehouse.Proxy;
using Gatehouse.Configuration;
using Gatehouse.Policies.Resilience;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Core.Tests.Policies.Resilience;

public class ServiceResilienceTests
{
    private static GatewaySnapshot Compile(string service, GatewaySnapshot? previous = null)
    {
        var yaml = $$"""
            services:
              orders: { targets: ["http://127.0.0.1:5001"], {{service}} }
            routes:
              - { name: orders, match: { path: "/{**rest}" }, service: orders }
            """;
        return GatewayCompiler.Compile(ConfigLoader.Load(yaml, "t.yaml", _ => null), yaml, (previous?.Generation ?? 0) + 1, previous);
    }

    [Fact]
    public void Compile_NothingConfigured_NoResilienceOnTheRoute()
    {
        var snapshot = Compile("timeout: 30s");

        Assert.Null(snapshot.Routes["orders"].Resilience);
        Assert.Empty(snapshot.Resilience);
    }

    [Fact]
    public void Reload_BreakerUnchanged_KeepsItsState()
    {
        var first = Compile("circuitBreaker: { minimumRequests: 1 }");
        first.Resilience["orders"].Breaker!.OnResult(probe: false, failure: true, NullLogger.Instance);

        var second = Compile("circuitBreaker: { minimumRequests: 1 }, maxConcurrentRequests: 5", first);

        Assert.Same(first.Resilience["orders"].Breaker, second.Resilience["orders"].Breaker);
        Assert.Equal(CircuitState.Open, second.Resilience["orders"].Breaker!.State);
    }

    [Fact]
    public void Reload_BreakerChanged_StartsClosed()
    {
        var first = Compile("circuitBreaker: { minimumRequests: 1 }");
        first.Resilience["orders"].Breaker!.OnResult(probe: false, failure: true, NullLogger.Instance);

        var second = Compile("circuitBreaker: { minimumRequests: 2 }", first);

        Assert.Equal(CircuitState.Closed, second.Resilience["orders"].Breaker!.State);
        Assert.Same(second.Resilience["orders"], second.Routes["orders"].Resilience!.Service);
    }

    [Fact]
    public void Reload_BulkheadLimitChanged_KeepsRequestsInFlight()
    {
        var first = Compile("maxConcurrentRequests: 1");
        Assert.True(first.Resilience["orders"].Bulkhead!.TryEnter());

        var second = Compile("maxConcurrentRequests: 2", first);

        Assert.True(second.Resilience["orders"].Bulkhead!.TryEnter());
        Assert.False(second.Resilience["orders"].Bulkhead!.TryEnter());
    }

    [Fact]
    public void Compile_ConnectTimeout_InClusterMetadata()
    {
        var snapshot = Compile("timeout: { connect: 1500ms, idle: 20s }");

        var cluster = snapshot.ProxyClusters.Single();
        Assert.Equal(TimeSpan.FromMilliseconds(1500), BackendHttpClientFactory.ConnectTimeout(cluster.Metadata));
        Assert.Equal(TimeSpan.FromSeconds(20), cluster.HttpRequest!.ActivityTimeout);
    }

    [Fact]
    public void ClientFactory_OnlyConnectTimeoutChanged_BuildsANewClient()
    {
        var factory = new BackendHttpClientFactory(NullLogger<ForwarderHttpClientFactory>.Instance);
        var config = new HttpClientConfig();
        var before = new Dictionary<string, string> { [BackendHttpClientFactory.MetadataKey] = "1000" };
        using var old = factory.CreateClient(new ForwarderHttpClientContext { ClusterId = "orders", NewConfig = config, NewMetadata = before });

        var same = factory.CreateClient(new ForwarderHttpClientContext
        {
            ClusterId = "orders", OldClient = old, OldConfig = config, OldMetadata = before, NewConfig = config,
            NewMetadata = new Dictionary<string, string> { [BackendHttpClientFactory.MetadataKey] = "1000" },
        });
        using var changed = factory.CreateClient(new ForwarderHttpClientContext
        {
            ClusterId = "orders", OldClient = old, OldConfig = config, OldMetadata = before, NewConfig = config,
            NewMetadata = new Dictionary<string, string> { [BackendHttpClientFactory.MetadataKey] = "2000" },
        });

        Assert.Same(old, same);
        Assert.NotSame(old, changed);
    }

    [Fact]
    public void Backoff_GrowsExponentially_WithJitter()
    {
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var delay = ResilienceMiddleware.Backoff(TimeSpan.FromMilliseconds(100), attempt);
            var full = 100 * Math.Pow(2, attempt);

            Assert.InRange(delay.TotalMilliseconds, full / 2, full);
        }
    }
}
