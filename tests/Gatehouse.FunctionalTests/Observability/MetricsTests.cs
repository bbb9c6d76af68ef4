using System.Net;
using System.Text.RegularExpressions;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Observability;

/// <summary>
/// <c>/metrics</c> on the admin listener: Prometheus text that promtool accepts and a real Prometheus server scrapes.
/// Gateways of other tests in this process share the process-wide meters, so every assertion names this test's own route.
/// </summary>
public class MetricsTests
{
    private static async Task<string> ScrapeAsync(TestGateway gateway)
    {
        using var response = await gateway.Admin!.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task RateLimitDecisions_KeepCountingAcrossAReload_NeverGoBack()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        const string Config = """
            rateLimits:
              reload-counted: { limit: {{LIMIT}}, window: 1m, key: ip }
            services:
              s: { targets: ["{{BACKEND}}"] }
            routes:
              - { name: reload-counted-route, match: { path: "/counted" }, service: s, rateLimit: [reload-counted] }
            """;
        await using var gateway = await TestGateway.StartAsync(Config.Replace("{{LIMIT}}", "100").Replace("{{BACKEND}}", backend.Url.ToString()));
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetAsync("/counted");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // A new limit makes a new limiter (fresh counters for the decisions), but the metric keeps its running total.
        await gateway.RewriteConfigAsync(Config.Replace("{{LIMIT}}", "2").Replace("{{BACKEND}}", backend.Url.ToString()));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetAsync("/counted");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        var text = await ScrapeAsync(gateway);
        Assert.Matches(new Regex("""gatehouse_rate_limit_decisions_total\{[^}]*outcome="allowed"[^}]*policy="reload-counted"[^}]*\} 5\b"""), text);
        Assert.Matches(new Regex("""gatehouse_rate_limit_decisions_total\{[^}]*outcome="rejected"[^}]*policy="reload-counted"[^}]*\} 1\b"""), text);
        Assert.DoesNotMatch(new Regex("""gatehouse_rate_limit_decisions_total\{[^}]*outcome="shadow_rejected"[^}]*policy="reload-counted"""), text);
    }

    [Fact]
    public async Task Metrics_RequestDurationByRouteName_RateLimitAndBreakerSeries_PassPromtool()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            rateLimits:
              metrics-limit: { limit: 2, window: 1m, key: ip }
            services:
              metrics-svc:
                targets: ["{{backend.Url}}"]
                circuitBreaker: { failureRatio: 0.5, minimumRequests: 10, window: 10s, breakFor: 5s }
            routes:
              - { name: metrics-orders, match: { path: "/orders/{**rest}" }, service: metrics-svc }
              - { name: metrics-limited, match: { path: "/limited" }, service: metrics-svc, rateLimit: [metrics-limit] }
            """);

        for (var i = 0; i < 3; i++)
        {
            using var ok = await gateway.Client.GetAsync($"/orders/{i}?user=secret-user-{i}");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        for (var i = 0; i < 3; i++)
        {
            using var limited = await gateway.Client.GetAsync("/limited");
        }

        using (var missing = await gateway.Client.GetAsync("/nowhere/at/all"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using (var odd = new HttpRequestMessage(new HttpMethod("BREW"), "/orders/1"))
        using (await gateway.Client.SendAsync(odd))
        {
        }

        var text = await ScrapeAsync(gateway);

        Assert.Matches(new Regex("""http_server_request_duration_seconds_count\{[^}]*http_request_method="GET"[^}]*http_response_status_code="200"[^}]*http_route="metrics-orders"[^}]*\} 3\b"""), text);
        Assert.Matches(new Regex("""http_server_request_duration_seconds_bucket\{[^}]*http_route="metrics-orders"[^}]*le="\+Inf"[^}]*\} 3\b"""), text);
        Assert.Matches(new Regex("""http_server_request_duration_seconds_sum\{[^}]*http_route="metrics-orders"[^}]*\} """), text);
        Assert.Matches(new Regex("""http_server_request_duration_seconds_count\{[^}]*http_response_status_code="404"[^}]*http_route="unmatched"[^}]*\}"""), text);
        Assert.Matches(new Regex("""http_server_request_duration_seconds_count\{[^}]*http_request_method="_OTHER"[^}]*http_route="metrics-orders"[^}]*\}"""), text);
        Assert.Matches(new Regex("""gatehouse_rate_limit_decisions_total\{[^}]*outcome="allowed"[^}]*policy="metrics-limit"[^}]*\} 2\b"""), text);
        Assert.Matches(new Regex("""gatehouse_rate_limit_decisions_total\{[^}]*outcome="rejected"[^}]*policy="metrics-limit"[^}]*\} 1\b"""), text);
        Assert.Matches(new Regex("""gatehouse_circuit_breaker_state\{[^}]*service="metrics-svc"[^}]*\} 0\b"""), text);
        Assert.Matches(new Regex("""gatehouse_upstream_request_duration_seconds_count\{[^}]*gatehouse_service="metrics-svc"[^}]*\}"""), text);
        Assert.Matches(new Regex("""gatehouse_config_info\{[^}]*hash="[0-9a-f]{12}"[^}]*\} 1\b"""), text);
        Assert.Contains("kestrel_active_connections", text, StringComparison.Ordinal);

        // Bounded labels: never the raw path or the query.
        Assert.DoesNotContain("/orders/1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-user", text, StringComparison.Ordinal);
        Assert.DoesNotContain("BREW", text, StringComparison.Ordinal);

        var (exitCode, output) = await TestPrometheus.CheckMetricsAsync(text);
        Assert.True(exitCode == 0, $"promtool check metrics failed:\n{output}");
    }

    [Fact]
    public async Task RealPrometheus_ScrapesTheAdminListener_QueryReturnsTheRouteSeries()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: scraped-route, match: { path: "/scraped/{**rest}" }, service: s }
            """);
        await using var prometheus = await TestPrometheus.StartAsync(new Uri(gateway.Host.AdminUrl!));

        for (var i = 0; i < 5; i++)
        {
            using var response = await gateway.Client.GetAsync($"/scraped/{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var value = "";
        await Wait.UntilAsync(async () =>
        {
            var result = await prometheus.QueryAsync("""sum(http_server_request_duration_seconds_count{http_route="scraped-route",http_response_status_code="200"})""");
            value = result.GetArrayLength() == 1 ? result[0].GetProperty("value")[1].GetString() ?? "" : "";
            return value == "5";
        }, "Prometheus to return the route's request count of 5 (last seen: '" + value + "')\n" + prometheus.Output, TimeSpan.FromSeconds(30));

        var up = await prometheus.QueryAsync("""up{job="gatehouse"}""");
        Assert.Equal("1", up[0].GetProperty("value")[1].GetString());
    }

    [Fact]
    public async Task Reloads_CountedByResult_ConfigInfoCarriesTheNewHash()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        var config = $$"""
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: reload-metrics, match: { path: "/one/{**rest}" }, service: s }
            """;
        await using var gateway = await TestGateway.StartAsync(config);

        await gateway.RewriteConfigAsync(config + "\n  - { name: reload-metrics-2, match: { path: \"/two\" }, service: s }\n");
        await gateway.RewriteConfigAsync(config + "\n  - { name: broken, service: nowhere }\n", expectRefusal: true);
        var text = await ScrapeAsync(gateway);

        Assert.Matches(new Regex("""gatehouse_config_reloads_total\{[^}]*result="success"[^}]*\} [1-9]"""), text);
        Assert.Matches(new Regex("""gatehouse_config_reloads_total\{[^}]*result="failure"[^}]*\} [1-9]"""), text);
        Assert.Contains($"hash=\"{gateway.Host.Status.Hash[..12]}\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BreakerOpens_TransitionCountedAndStateIsOpen()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.Status;
        backend.Status = 503;
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              breaker-metrics:
                targets: ["{{backend.Url}}"]
                circuitBreaker: { failureRatio: 0.5, minimumRequests: 2, window: 10s, breakFor: 1m }
            routes:
              - { name: breaker-route, match: { path: "/{**rest}" }, service: breaker-metrics }
            """);

        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetAsync("/x");
        }

        var text = await ScrapeAsync(gateway);

        Assert.Matches(new Regex("""gatehouse_circuit_breaker_state\{[^}]*service="breaker-metrics"[^}]*\} 1\b"""), text);
        Assert.Matches(new Regex("""gatehouse_circuit_breaker_transitions_total\{[^}]*service="breaker-metrics"[^}]*to="open"[^}]*\} 1\b"""), text);
        Assert.Matches(new Regex("""http_server_request_duration_seconds_count\{[^}]*http_response_status_code="503"[^}]*http_route="breaker-route"[^}]*\}"""), text);
    }

    [Fact]
    public async Task AuthFailures_CountedByReason()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            consumers:
              someone: { apiKeys: ["sha256:{{new string('a', 64)}}"] }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: keyed, match: { path: "/{**rest}" }, service: s, auth: { providers: [apiKey] } }
            """);

        using (var refused = await gateway.Client.GetAsync("/x"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var text = await ScrapeAsync(gateway);

        Assert.Matches(new Regex("""gatehouse_auth_failures_total\{[^}]*reason="unauthenticated"[^}]*\} [1-9]"""), text);
        Assert.Matches(new Regex("""http_server_request_duration_seconds_count\{[^}]*http_response_status_code="401"[^}]*http_route="keyed"[^}]*\} 1\b"""), text);
    }

    [Fact]
    public async Task MetricsDisabled_NoMetricsEndpoint()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            observability: { metrics: { enabled: false } }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: r, match: { path: "/{**rest}" }, service: s }
            """);

        using var response = await gateway.Admin!.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
