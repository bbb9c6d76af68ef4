using System.Net;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Resilience;

public class BulkheadTests
{
    [Fact]
    public async Task MaxConcurrentRequests_Exceeded_503ServiceOverloaded_ThenServedAgain()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.Gate;
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"], maxConcurrentRequests: 2 }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);
        var first = gateway.Client.GetAsync("/1");
        var second = gateway.Client.GetAsync("/2");
        await Wait.UntilAsync(() => backend.Requests == 2, "two requests in flight at the backend");

        using (var third = await gateway.Client.GetAsync("/3"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, third.StatusCode);
            Assert.Equal("https://gatehouse.dev/problems/service-overloaded", await TimeoutTests.ProblemTypeAsync(third));
            Assert.True(third.Headers.Contains("Retry-After"));
        }

        backend.Release();
        using (var a = await first.WaitAsync(TimeSpan.FromSeconds(10)))
        using (var b = await second.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            Assert.Equal(HttpStatusCode.OK, a.StatusCode);
            Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        }

        Assert.Equal(2, backend.Requests);
        backend.Fault = Fault.None;
        using var next = await gateway.Client.GetAsync("/4");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }
}
