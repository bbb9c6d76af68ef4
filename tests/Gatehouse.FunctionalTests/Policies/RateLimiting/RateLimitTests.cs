using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.RateLimiting;

/// <summary>Rate limits kept in memory on one gateway: admits, 429s, the RateLimit fields, keys and reloads.</summary>
public class RateLimitTests
{
    private static string Hash(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static async Task<HttpResponseMessage> GetAsync(TestGateway gateway, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await gateway.Client.SendAsync(request);
    }

    private static async Task<int> CountAdmittedAsync(TestGateway gateway, string path, int attempts, params (string Name, string Value)[] headers)
    {
        var admitted = 0;
        for (var i = 0; i < attempts; i++)
        {
            using var response = await GetAsync(gateway, path, headers);
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"unexpected {(int)response.StatusCode}");
            admitted += response.StatusCode == HttpStatusCode.OK ? 1 : 0;
        }

        return admitted;
    }

    [Fact]
    public async Task OverTheLimit_429ProblemWithRetryAfterAndDraftFields_BackendNotCalled()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            rateLimits:
              per-ip: { algorithm: gcra, limit: 3, window: 1m, key: ip }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: orders, match: { path: "/orders" }, service: s, rateLimit: [per-ip] }
            """);

        using var first = await GetAsync(gateway, "/orders");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var policy = RateLimitHeaders.Policy(first)["per-ip"];
        Assert.Equal("3", policy["q"]);
        Assert.Equal("60", policy["w"]);
        var limit = RateLimitHeaders.Limit(first)["per-ip"];
        Assert.Equal("2", limit["r"]);
        Assert.Equal("20", limit["t"]);

        Assert.Equal(2, await CountAdmittedAsync(gateway, "/orders", 2));
        using var refused = await GetAsync(gateway, "/orders");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Equal("https://gatehouse.dev/problems/rate-limited", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(429, body.RootElement.GetProperty("status").GetInt32());
        Assert.Contains("per-ip", body.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(body.RootElement.TryGetProperty("requestId", out _));
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 19, 20);
        Assert.Equal("0", RateLimitHeaders.Limit(refused)["per-ip"]["r"]);
        Assert.Equal("3", RateLimitHeaders.Policy(refused)["per-ip"]["q"]);
        Assert.Equal(3, backend.Requests);
    }

    [Fact]
    public async Task ConsumerKey_CountsEachConsumerApart_AnonymousFallsBackToClientIp_NotAHeaderTheCallerPicks()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            consumers:
              alice: { apiKeys: ["{{Hash("key-alice")}}"] }
              bob: { apiKeys: ["{{Hash("key-bob")}}"] }
            rateLimits:
              per-consumer: { limit: 2, window: 1m, key: consumer }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: orders, match: { path: "/orders" }, service: s, rateLimit: [per-consumer], auth: { providers: [apiKey] } }
              - { name: open, match: { path: "/open" }, service: s, rateLimit: [per-consumer] }
            """);

        Assert.Equal(2, await CountAdmittedAsync(gateway, "/orders", 4, ("X-Api-Key", "key-alice")));
        Assert.Equal(2, await CountAdmittedAsync(gateway, "/orders", 4, ("X-Api-Key", "key-bob")));

        // No credential on the open route: keyed by the client address, whatever identity headers the caller sends.
        Assert.Equal(2, await CountAdmittedAsync(gateway, "/open", 2, ("X-Consumer", "a")));
        Assert.Equal(0, await CountAdmittedAsync(gateway, "/open", 2, ("X-Consumer", "b"), ("X-Api-Key", "made-up")));
    }

    [Fact]
    public async Task SamePolicyKeys_NeverShareCountersAcrossPolicies_AndHeaderKeysSeparateTenants()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            rateLimits:
              a: { limit: 2, window: 1m, key: "header:X-Tenant" }
              b: { limit: 5, window: 1m, key: "header:X-Tenant" }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: ra, match: { path: "/a" }, service: s, rateLimit: [a] }
              - { name: rb, match: { path: "/b" }, service: s, rateLimit: [b] }
            """);

        Assert.Equal(2, await CountAdmittedAsync(gateway, "/a", 3, ("X-Tenant", "acme")));
        Assert.Equal(2, await CountAdmittedAsync(gateway, "/a", 3, ("X-Tenant", "globex")));
        Assert.Equal(5, await CountAdmittedAsync(gateway, "/b", 6, ("X-Tenant", "acme")));
    }

    [Fact]
    public async Task TwoPolicies_BothReported_TheTighterRefuses()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            rateLimits:
              burst: { algorithm: fixedWindow, limit: 2, window: 1h, key: ip, legacyHeaders: true }
              daily: { algorithm: slidingWindow, limit: 100, window: 1d, key: [ip, route] }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: r, match: { path: "/r" }, service: s, rateLimit: [burst, daily] }
            """);

        using var first = await GetAsync(gateway, "/r");
        var policies = RateLimitHeaders.Policy(first);
        Assert.Equal(["burst", "daily"], policies.Keys);
        Assert.Equal("86400", policies["daily"]["w"]);
        var limits = RateLimitHeaders.Limit(first);
        Assert.Equal("1", limits["burst"]["r"]);
        Assert.Equal("99", limits["daily"]["r"]);
        Assert.Equal("2", first.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("1", first.Headers.GetValues("X-RateLimit-Remaining").Single());

        using var second = await GetAsync(gateway, "/r");
        using var third = await GetAsync(gateway, "/r");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        using var body = JsonDocument.Parse(await third.Content.ReadAsStringAsync());
        Assert.Contains("'burst'", body.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShadowMode_CountsAndReports_ButNeverRefuses()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            rateLimits:
              trial: { limit: 2, window: 1m, mode: shadow }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: r, match: { path: "/r" }, service: s, rateLimit: [trial] }
            """);

        Assert.Equal(5, await CountAdmittedAsync(gateway, "/r", 5));
        using var last = await GetAsync(gateway, "/r");
        Assert.Equal("0", RateLimitHeaders.Limit(last)["trial"]["r"]);
        Assert.Equal(6, backend.Requests);
    }

    [Fact]
    public async Task HeadersOnRejectOnly_AllowedResponsesCarryNone()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            rateLimits:
              quiet: { limit: 1, window: 1m, headers: onReject }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: r, match: { path: "/r" }, service: s, rateLimit: [quiet] }
            """);

        using var allowed = await GetAsync(gateway, "/r");
        using var refused = await GetAsync(gateway, "/r");

        Assert.False(allowed.Headers.Contains("RateLimit"));
        Assert.False(allowed.Headers.Contains("RateLimit-Policy"));
        Assert.Equal("0", RateLimitHeaders.Limit(refused)["quiet"]["r"]);
    }

    [Fact]
    public async Task Concurrency_RefusesWhileTheLimitIsInFlight_AndGivesLeasesBack()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync(app => app.Map("/{**path}", async (HttpContext context) =>
        {
            if (context.Request.Path == "/slow")
            {
                await release.Task;
            }

            return "ok";
        }));
        await using var gateway = await TestGateway.StartAsync($$"""
            rateLimits:
              inflight: { algorithm: concurrency, limit: 1, key: route }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: r, match: { path: "/{**rest}" }, service: s, rateLimit: [inflight] }
            """);

        var slow = GetAsync(gateway, "/slow");
        await Wait.UntilAsync(() => backend.Requests == 1, "the slow request to reach the backend");
        using var refused = await GetAsync(gateway, "/fast");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("concurrent-requests", RateLimitHeaders.Policy(refused)["inflight"]["qu"].Trim('"'));

        release.SetResult();
        using (var done = await slow)
        {
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        }

        using var after = await GetAsync(gateway, "/fast");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Reload_UnchangedPolicyKeepsCounters_ChangedPolicyTakesEffect()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        string Config(int otherLimit, string extraRoute = "") => $$"""
            rateLimits:
              kept: { limit: 3, window: 1h }
              changed: { limit: {{otherLimit}}, window: 1h }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: k, match: { path: "/k" }, service: s, rateLimit: [kept] }
              - { name: c, match: { path: "/c" }, service: s, rateLimit: [changed] }
            {{extraRoute}}
            """;
        await using var gateway = await TestGateway.StartAsync(Config(1));
        Assert.Equal(3, await CountAdmittedAsync(gateway, "/k", 4));
        Assert.Equal(1, await CountAdmittedAsync(gateway, "/c", 2));

        await gateway.RewriteConfigAsync(Config(5, "  - { name: extra, match: { path: \"/extra\" }, service: s }"));

        Assert.Equal(0, await CountAdmittedAsync(gateway, "/k", 2));
        Assert.Equal(5, await CountAdmittedAsync(gateway, "/c", 6));
    }
}
