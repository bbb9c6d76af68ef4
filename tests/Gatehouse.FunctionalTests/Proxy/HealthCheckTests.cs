using System.Net;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Proxy;

public class HealthCheckTests
{
    [Fact]
    public async Task PassiveHealth_DeadTargetTakenOut_TrafficGoesToLiveOne()
    {
        await using var live = await TestBackend.StartEchoAsync("live");
        var dead = await TestBackend.StartEchoAsync("dead");
        var deadUrl = dead.Url;
        await dead.DisposeAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              pool:
                targets: ["{{live.Url}}", "{{deadUrl}}"]
                loadBalancing: roundRobin
                healthCheck: { passive: true, reactivationPeriod: 5m }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: pool }
            """);

        // YARP's transport-failure-rate policy needs a minimum of requests before it judges a target.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 40; i++)
        {
            using var response = await gateway.Client.GetAsync("/x");
            statuses.Add(response.StatusCode);
        }

        Assert.Contains(HttpStatusCode.BadGateway, statuses.Take(20));
        Assert.All(statuses.TakeLast(10), s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public async Task ActiveHealth_TargetRecovers_GetsTrafficAgain()
    {
        var healthy = false;
        await using var backend = await TestBackend.StartAsync(app =>
        {
            app.MapGet("/healthz", context =>
            {
                context.Response.StatusCode = Volatile.Read(ref healthy) ? 200 : 503;
                return Task.CompletedTask;
            });
            app.Map("/{**p}", context => context.Response.WriteAsync("served"));
        });
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s:
                targets: ["{{backend.Url}}"]
                healthCheck: { path: /healthz, interval: 200ms, timeout: 100ms, unhealthyAfter: 1, passive: false }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);
        await Wait.UntilAsync(async () => (await gateway.Client.GetAsync("/x")).StatusCode == HttpStatusCode.ServiceUnavailable, "the target to be taken out");

        Volatile.Write(ref healthy, true);

        await Wait.UntilAsync(async () => (await gateway.Client.GetAsync("/x")).StatusCode == HttpStatusCode.OK, "the target to come back");
    }
}
