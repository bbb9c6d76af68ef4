using System.Net;
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

        for (var i = 0; i < 20; i++)
        {
            (await gateway.Client.GetAsync("/x")).Dispose();
        }

        // Three 5xx in a row took the failing target out; everything after went to the healthy one.
        Assert.Equal(3, failing.Requests);
        Assert.Equal(17, healthy.Requests);
        using var response = await gateway.Client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
