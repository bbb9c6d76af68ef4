using System.Net;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Resilience;

public class OutlierEjectionTests
{
    [Fact]
    public async Task TargetAnswering5xx_EjectedAfterConsecutiveFailures_TheOtherServesAlone()
    {
        await using var failing = await FaultBackend.StartAsync("failing");
        await using var healthy = await FaultBackend.StartAsync("healthy");
        failing.Fault = Fault.Status;
        failing.Status = 500;
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s:
                targets: ["{{failing.Url}}", "{{healthy.Url}}"]
                loadBalancing: roundRobin
                healthCheck: { ejectAfterFailures: 3, reactivationPeriod: 5m }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        // Round robin alternates the two targets until the failing one has answered three 5xx in a row.
        var sent = 0;
        while (failing.Requests < 3)
        {
            (await gateway.Client.GetAsync("/x")).Dispose();
            Assert.True(++sent <= 6, "the failing target should get every other request until it is ejected");
        }

        // The ejection is recorded after the third failure has been answered (as in Envoy): wait until the gateway
        // shows it, then everything goes to the healthy target.
        await Wait.UntilAsync(async () => await PassiveHealthAsync(gateway, failing.Url) == "unhealthy", "the failing target to be ejected");
        for (var i = sent; i < 20; i++)
        {
            (await gateway.Client.GetAsync("/x")).Dispose();
        }

        Assert.Equal(3, failing.Requests);
        Assert.Equal(17, healthy.Requests);
        using var response = await gateway.Client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<string?> PassiveHealthAsync(TestGateway gateway, string target)
    {
        using var services = JsonDocument.Parse(await gateway.Admin!.GetStringAsync("/services"));
        return services.RootElement.EnumerateArray()
            .SelectMany(service => service.GetProperty("targets").EnumerateArray())
            .Where(t => t.GetProperty("address").GetString() == target)
            .Select(t => t.GetProperty("passive").GetString())
            .FirstOrDefault();
    }
}
