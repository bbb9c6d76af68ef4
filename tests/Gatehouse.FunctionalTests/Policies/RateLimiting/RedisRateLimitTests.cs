using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;
using StackExchange.Redis;

namespace Gatehouse.FunctionalTests.Policies.RateLimiting;

/// <summary>
/// Limits shared through a real Debian redis-server by several gateways: the count across nodes, one round trip per
/// decision, and what happens when Redis is slow, killed and restarted.
/// </summary>
public class RedisRateLimitTests
{
    private static string Config(TestBackend backend, TestRedis redis, string policies, string routes) => $$"""
        redis: { connection: "{{redis.Connection}}", timeout: 250ms }
        rateLimits:
        {{policies}}
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
        {{routes}}
        """;

    private static async Task<(int Admitted, int Refused, int Other)> HammerAsync(IReadOnlyList<TestGateway> gateways, string path, int requests, int concurrency)
    {
        int admitted = 0, refused = 0, other = 0, next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                // Round robin over the nodes, as a load balancer in front of them would.
                using var response = await gateways[i % gateways.Count].Client.GetAsync(path);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.OK:
                        Interlocked.Increment(ref admitted);
                        break;
                    case HttpStatusCode.TooManyRequests:
                        Interlocked.Increment(ref refused);
                        break;
                    default:
                        Interlocked.Increment(ref other);
                        break;
                }
            }
        }));
        return (admitted, refused, other);
    }

    /// <summary>Three gateways sharing 300 requests per minute on /orders through <paramref name="redis"/>.</summary>
    private static async Task<(TestGateway, TestGateway, TestGateway)> ThreeNodesAsync(TestBackend backend, TestRedis redis, string store)
    {
        var config = Config(backend, redis,
            $"  shared: {{ algorithm: gcra, limit: 300, window: 1m, key: route, {store} }}",
            "  - { name: orders, match: { path: \"/orders\" }, service: s, rateLimit: [shared] }");
        return (await TestGateway.StartAsync(config), await TestGateway.StartAsync(config), await TestGateway.StartAsync(config));
    }

    private static long ScriptCalls(IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after)
    {
        long Calls(IReadOnlyDictionary<string, long> stats, string command) => stats.TryGetValue(command, out var n) ? n : 0;
        return Calls(after, "evalsha") + Calls(after, "eval") - Calls(before, "evalsha") - Calls(before, "eval");
    }

    [Fact]
    public async Task ThreeGateways_300PerMinute_AdmitBetween294And306_WithOneRoundTripPerDecision()
    {
        await using var redis = await TestRedis.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        var (a, b, c) = await ThreeNodesAsync(backend, redis, "store: redis");
        await using var _a = a;
        await using var _b = b;
        await using var _c = c;
        var before = await redis.CommandCallsAsync();

        var (admitted, refused, other) = await HammerAsync([a, b, c], "/orders", 450, 24);

        Assert.Equal(0, other);
        Assert.InRange(admitted, 294, 306);
        Assert.Equal(450 - admitted, refused);
        Assert.Equal(admitted, backend.Requests);
        var after = await redis.CommandCallsAsync();
        var scriptCalls = ScriptCalls(before, after);

        // One script call per decision; a node's first call of a script may need one EVAL after a NOSCRIPT.
        Assert.InRange(scriptCalls, 450, 453);
    }

    [Fact]
    public async Task Hybrid_ThreeGateways_StayWithinTheWrittenBounds_WithFarFewerRoundTrips()
    {
        await using var redis = await TestRedis.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        var (a, b, c) = await ThreeNodesAsync(backend, redis, "store: hybrid, batch: 10");
        await using var _a = a;
        await using var _b = b;
        await using var _c = c;
        var before = await redis.CommandCallsAsync();

        var (admitted, refused, other) = await HammerAsync([a, b, c], "/orders", 450, 12);

        Assert.Equal(0, other);
        Assert.Equal(450 - admitted, refused);

        // Never over: every admitted request was reserved from the shared quota (plus what refills meanwhile).
        // Under by at most nodes x (batch - 1): reserved requests left unused on a node.
        Assert.InRange(admitted, 300 - (3 * 9), 306);
        var after = await redis.CommandCallsAsync();
        var scriptCalls = ScriptCalls(before, after);
        Assert.True(scriptCalls <= 450 / 3, $"{scriptCalls} Redis calls for 450 requests ({admitted} admitted)");
        Console.WriteLine($"hybrid: {admitted} admitted of 450, {scriptCalls} Redis calls");
    }

    [Fact]
    public async Task SlowRedis_AnswersWithinTheTimeout_WithTheFailureDecision()
    {
        await using var redis = await TestRedis.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, redis,
            """
              slow-open: { limit: 1000, window: 1m, store: redis, onStoreFailure: allow }
              slow-closed: { limit: 1000, window: 1m, store: redis, onStoreFailure: deny }
            """,
            """
              - { name: open, match: { path: "/open" }, service: s, rateLimit: [slow-open] }
              - { name: closed, match: { path: "/closed" }, service: s, rateLimit: [slow-closed] }
            """));

        // The policies' names are this test's own, so measurements from gateways of other tests cannot be counted.
        var timeouts = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "gatehouse.rate_limit.store_failures")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? policy = null, reason = null;
            foreach (var tag in tags)
            {
                policy = tag.Key == "policy" ? tag.Value as string : policy;
                reason = tag.Key == "reason" ? tag.Value as string : reason;
            }

            if (policy is "slow-open" or "slow-closed" && reason == "timeout")
            {
                timeouts.Add(policy);
            }
        });
        listener.Start();
        using (var warm = await gateway.Client.GetAsync("/open"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.AdminConnection);
        var sleeping = admin.GetDatabase().ExecuteAsync("DEBUG", "SLEEP", "2");
        await Task.Delay(50);

        var clock = Stopwatch.StartNew();
        using var open = await gateway.Client.GetAsync("/open");
        var openTook = clock.Elapsed;
        clock.Restart();
        using var closed = await gateway.Client.GetAsync("/closed");
        var closedTook = clock.Elapsed;
        await sleeping;

        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, closed.StatusCode);
        Assert.True(openTook < TimeSpan.FromMilliseconds(1000), $"took {openTook.TotalMilliseconds}ms with a 250ms timeout");
        Assert.True(closedTook < TimeSpan.FromMilliseconds(1000), $"took {closedTook.TotalMilliseconds}ms with a 250ms timeout");
        Assert.Equal(["slow-closed", "slow-open"], timeouts.Order());
    }

    [Fact]
    public async Task RedisKilled_AllowKeepsServing_DenyAnswers503_RestartedRedisEnforcesAgain()
    {
        await using var redis = await TestRedis.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        var config = Config(backend, redis,
            """
              open: { limit: 1000, window: 1m, store: redis, onStoreFailure: allow }
              closed: { limit: 1000, window: 1m, store: redis, onStoreFailure: deny }
              small: { limit: 3, window: 1h, store: redis, key: route }
            """,
            """
              - { name: open, match: { path: "/open" }, service: s, rateLimit: [open] }
              - { name: closed, match: { path: "/closed" }, service: s, rateLimit: [closed] }
              - { name: small, match: { path: "/small" }, service: s, rateLimit: [small] }
            """);
        await using var a = await TestGateway.StartAsync(config);
        await using var b = await TestGateway.StartAsync(config);
        await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            using var r = await (i % 2 == 0 ? a : b).Client.GetAsync("/closed");
            Assert.True(r.StatusCode == HttpStatusCode.OK, $"request {i}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        }));

        await redis.KillAsync();

        var clock = Stopwatch.StartNew();
        var open = await HammerAsync([a, b], "/open", 200, 8);
        Assert.Equal(200, open.Admitted);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"200 requests took {clock.Elapsed} while Redis was down");

        using var closed = await a.Client.GetAsync("/closed");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, closed.StatusCode);
        Assert.Equal("application/problem+json", closed.Content.Headers.ContentType?.MediaType);
        using (var body = JsonDocument.Parse(await closed.Content.ReadAsStringAsync()))
        {
            Assert.Equal("https://gatehouse.dev/problems/rate-limit-unavailable", body.RootElement.GetProperty("type").GetString());
        }

        Assert.NotNull(closed.Headers.RetryAfter);

        await redis.RestartAsync();

        // Both nodes reconnect by themselves; the shared limit of 3 then holds across them again.
        await Wait.UntilAsync(async () =>
        {
            using var response = await a.Client.GetAsync("/closed");
            return response.StatusCode == HttpStatusCode.OK;
        }, "node a to reconnect to Redis", TimeSpan.FromSeconds(30));
        await Wait.UntilAsync(async () =>
        {
            using var response = await b.Client.GetAsync("/closed");
            return response.StatusCode == HttpStatusCode.OK;
        }, "node b to reconnect to Redis", TimeSpan.FromSeconds(30));
        var small = await HammerAsync([a, b], "/small", 10, 1);
        Assert.Equal((3, 7, 0), small);
    }
}
