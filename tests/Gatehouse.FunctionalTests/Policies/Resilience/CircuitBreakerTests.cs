using System.Net;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;
using Gatehouse.Policies.Resilience;

namespace Gatehouse.FunctionalTests.Policies.Resilience;

public class CircuitBreakerTests
{
    private static string Config(string url, string breaker, string route = "") => $$"""
        services:
          orders:
            targets: ["{{url}}"]
            {{breaker}}
        routes:
          - name: orders
            match: { path: "/{**rest}" }
            service: orders
            {{route}}
        """;

    private static CircuitState? State(TestGateway gateway) => new CircuitBreakerStates(gateway.Host.State).GetState("orders");

    [Fact]
    public async Task Breaker_OpensAfterFailures_FailsFastWithoutBackendCalls_HalfOpens_ClosesAfterRecovery()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.Status;
        backend.Status = 500;
        await using var gateway = await TestGateway.StartAsync(Config(backend.Url,
            "circuitBreaker: { failureRatio: 0.5, minimumRequests: 5, window: 10s, breakFor: 1s }"));

        // Closed: the failures reach the client as the backend sent them, and are counted.
        for (var i = 0; i < 5; i++)
        {
            using var failed = await gateway.Client.GetAsync("/x");
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }

        Assert.Equal(CircuitState.Open, State(gateway));
        Assert.Equal(5, backend.Requests);

        // Open: 503 circuit-open with Retry-After, and not one backend call.
        for (var i = 0; i < 20; i++)
        {
            using var rejected = await gateway.Client.GetAsync("/x");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
            Assert.Equal("https://gatehouse.dev/problems/circuit-open", await TimeoutTests.ProblemTypeAsync(rejected));
            Assert.InRange(int.Parse(rejected.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 1);
        }

        Assert.Equal(5, backend.Requests);

        // The backend recovers; after breakFor one probe goes through, succeeds, and the breaker closes.
        backend.Fault = Fault.None;
        await Wait.UntilAsync(async () =>
        {
            using var r = await gateway.Client.GetAsync("/x");
            return r.StatusCode == HttpStatusCode.OK;
        }, "the half-open probe to succeed", TimeSpan.FromSeconds(5));
        Assert.Equal(CircuitState.Closed, State(gateway));
        Assert.Equal(6, backend.Requests);
        using var after = await gateway.Client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Breaker_HalfOpenProbeFails_OpensAgain()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.ResetBeforeHeaders;
        await using var gateway = await TestGateway.StartAsync(Config(backend.Url,
            "circuitBreaker: { failureRatio: 1, minimumRequests: 2, breakFor: 500ms }"));
        for (var i = 0; i < 2; i++)
        {
            using var failed = await gateway.Client.GetAsync("/x");
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        }

        Assert.Equal(CircuitState.Open, State(gateway));

        await Wait.UntilAsync(async () =>
        {
            using var r = await gateway.Client.GetAsync("/x");
            return r.StatusCode == HttpStatusCode.BadGateway;
        }, "the half-open probe to reach the backend", TimeSpan.FromSeconds(5));

        Assert.Equal(CircuitState.Open, State(gateway));
        Assert.Equal(3, backend.Requests);
        using var again = await gateway.Client.GetAsync("/x");
        Assert.Equal("https://gatehouse.dev/problems/circuit-open", await TimeoutTests.ProblemTypeAsync(again));
        Assert.Equal(3, backend.Requests);
    }

    [Fact]
    public async Task Breaker_Open_RouteFallbackAnswersInstead()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.Status;
        await using var gateway = await TestGateway.StartAsync(Config(backend.Url,
            "circuitBreaker: { minimumRequests: 2, breakFor: 30s }",
            """fallback: { status: 503, body: '{"message":"orders are resting"}', contentType: application/json }"""));
        for (var i = 0; i < 2; i++)
        {
            (await gateway.Client.GetAsync("/x")).Dispose();
        }

        using var response = await gateway.Client.GetAsync("/x");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{\"message\":\"orders are resting\"}", await response.Content.ReadAsStringAsync());
        Assert.True(response.Headers.Contains("Retry-After"));
        Assert.Equal(2, backend.Requests);
    }

    [Fact]
    public async Task Breaker_AddedByReload_TakesEffect_RemovedByReload_StopsFailingFast()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.Status;
        await using var gateway = await TestGateway.StartAsync(Config(backend.Url, ""));
        for (var i = 0; i < 5; i++)
        {
            using var passed = await gateway.Client.GetAsync("/x");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, passed.StatusCode);
        }

        Assert.Equal(5, backend.Requests);

        // Only the breaker changes: YARP keeps the cluster's HttpClient, the breaker must apply all the same.
        await gateway.RewriteConfigAsync(Config(backend.Url, "circuitBreaker: { minimumRequests: 3, breakFor: 1m }"));
        for (var i = 0; i < 3; i++)
        {
            (await gateway.Client.GetAsync("/x")).Dispose();
        }

        using (var rejected = await gateway.Client.GetAsync("/x"))
        {
            Assert.Equal("https://gatehouse.dev/problems/circuit-open", await TimeoutTests.ProblemTypeAsync(rejected));
        }

        Assert.Equal(8, backend.Requests);

        await gateway.RewriteConfigAsync(Config(backend.Url, ""));
        backend.Fault = Fault.None;
        using var served = await gateway.Client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task AdminApi_ListsBreakerStates()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.Status;
        await using var gateway = await TestGateway.StartAsync(Config(backend.Url, "circuitBreaker: { minimumRequests: 1, breakFor: 1m }"));
        using (var before = JsonDocument.Parse(await gateway.Admin!.GetStringAsync("/services/breakers")))
        {
            Assert.Equal("closed", before.RootElement.GetProperty("orders").GetProperty("state").GetString());
        }

        (await gateway.Client.GetAsync("/x")).Dispose();

        using var after = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/services/breakers"));
        Assert.Equal("open", after.RootElement.GetProperty("orders").GetProperty("state").GetString());
        Assert.Equal(60, after.RootElement.GetProperty("orders").GetProperty("breakForSeconds").GetDouble());
    }
}
