using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Resilience;

public class TimeoutTests
{
    internal static async Task<string> ProblemTypeAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("type").GetString()!;
    }

    /// <summary>
    /// One normal request and one timed-out request first, so that the measured one times the timeout and not the
    /// process's first connection, JIT, and first cancellation (whose exception machinery and resources load on
    /// first use: measured here at up to a second on a busy two-core machine).
    /// </summary>
    private static async Task WarmUpAsync(TestGateway gateway, FaultBackend backend, string path)
    {
        // Cold, even the normal request may exceed a short timeout: only the measured request's status counts.
        (await gateway.Client.GetAsync(path)).Dispose();
        backend.Fault = Fault.Hang;
        (await gateway.Client.GetAsync(path)).Dispose();
    }

    /// <summary>Warms up (see <see cref="WarmUpAsync"/>), then times one request to the hanging backend.</summary>
    private static async Task<(HttpResponseMessage Response, double Milliseconds)> TimedAfterWarmUpAsync(TestGateway gateway, FaultBackend backend, string path)
    {
        await WarmUpAsync(gateway, backend, path);
        var watch = Stopwatch.StartNew();
        var response = await gateway.Client.GetAsync(path);
        return (response, watch.Elapsed.TotalMilliseconds);
    }

    [Fact]
    public async Task ResponseTimeout_BackendHangs_504WithinBound_BackendConnectionCancelled()
    {
        await using var backend = await FaultBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"], timeout: { response: 1s } }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);
        var (response, elapsed) = await TimedAfterWarmUpAsync(gateway, backend, "/x");
        using var _ = response;

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("https://gatehouse.dev/problems/gateway-timeout", await ProblemTypeAsync(response));
        Assert.InRange(elapsed, 900, 1100);

        // The backend sees its request cancelled: the gateway let go of the connection instead of leaking it.
        Assert.True(backend.Hung >= 2);
        await Wait.UntilAsync(() => backend.Cancelled == backend.Hung, "every hanging backend request to be cancelled");

        // And the gateway serves normally at once.
        backend.Fault = Fault.None;
        using var next = await gateway.Client.GetAsync("/y");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task RouteResponseTimeout_OverridesService()
    {
        await using var backend = await FaultBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"], timeout: { response: 10s } }
            routes:
              - { name: quick, match: { path: "/quick" }, service: s, timeout: { response: 500ms } }
            """);
        var (response, elapsed) = await TimedAfterWarmUpAsync(gateway, backend, "/quick");
        using var _ = response;

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.InRange(elapsed, 450, 550);
    }

    [Fact]
    public async Task RouteIdleTimeout_OverridesService_OtherRoutesKeepTheServices()
    {
        await using var backend = await FaultBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"], timeout: { idle: 10s } }
            routes:
              - { name: quick, match: { path: "/quick" }, service: s, timeout: { idle: 500ms } }
              - { name: patient, match: { path: "/patient" }, service: s }
            """);
        var (response, elapsed) = await TimedAfterWarmUpAsync(gateway, backend, "/quick");
        using var _ = response;

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.InRange(elapsed, 450, 550);

        // The service's other route still waits: slow for 1s is fine there.
        backend.Fault = Fault.Slow;
        using var patient = await gateway.Client.GetAsync("/patient");
        Assert.Equal(HttpStatusCode.OK, patient.StatusCode);
    }

    [Fact]
    public async Task ResponseTimeout_SlowButInTime_Served()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.Slow;
        backend.Delay = TimeSpan.FromMilliseconds(200);
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"], timeout: { response: 2s, idle: 5s, connect: 1s } }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        using var response = await gateway.Client.GetAsync("/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok from backend", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task IdleTimeout_MappingForm_504WithinBound()
    {
        await using var backend = await FaultBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"], timeout: { idle: 500ms } }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);
        var (response, elapsed) = await TimedAfterWarmUpAsync(gateway, backend, "/x");
        using var _ = response;

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("https://gatehouse.dev/problems/gateway-timeout", await ProblemTypeAsync(response));
        Assert.InRange(elapsed, 450, 550);
        Assert.True(backend.Hung >= 2);
        await Wait.UntilAsync(() => backend.Cancelled == backend.Hung, "every hanging backend request to be cancelled");
    }

    [Fact]
    public async Task ResponseTimeout_ChangedOnReload_TakesEffect()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.Slow;
        backend.Delay = TimeSpan.FromMilliseconds(700);
        var config = $$"""
            services:
              s: { targets: ["{{backend.Url}}"], timeout: { response: TIMEOUT } }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """;
        await using var gateway = await TestGateway.StartAsync(config.Replace("TIMEOUT", "5s", StringComparison.Ordinal));
        using (var slowOk = await gateway.Client.GetAsync("/x"))
        {
            Assert.Equal(HttpStatusCode.OK, slowOk.StatusCode);
        }

        await gateway.RewriteConfigAsync(config.Replace("TIMEOUT", "300ms", StringComparison.Ordinal));

        using var response = await gateway.Client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }
}
