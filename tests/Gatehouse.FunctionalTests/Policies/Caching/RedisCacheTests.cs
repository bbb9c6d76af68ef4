using System.Net;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Caching;

/// <summary>The Redis store through a real redis-server: one cache shared by two gateways, purge across them, and a Redis that is down is a miss.</summary>
public class RedisCacheTests
{
    private static string Config(CachingBackend backend, TestRedis redis, string cache = "{ ttl: 60s, store: redis }") => ResponseCacheTests.Config(backend, cache,
        $$"""redis: { connection: "{{redis.Connection}}", timeout: 250ms }""");

    /// <summary>The two gateways listen on different ports: a load balancer in front gives both the same Host, as here.</summary>
    private static async Task<HttpResponseMessage> GetAsync(TestGateway gateway, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = "api.example";
        return await gateway.Client.SendAsync(request);
    }

    private static async Task<string> GetStringAsync(TestGateway gateway, string path)
    {
        using var response = await GetAsync(gateway, path);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The entry is written to Redis after the response (not to hold it up): waits until it is there.</summary>
    private static Task StoredAsync(TestRedis redis, int entries) => Wait.UntilAsync(async () =>
    {
        await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.AdminConnection);
        var keys = admin.GetServer(admin.GetEndPoints()[0]).Keys(pattern: "gatehouse:cache:*").Count();
        return keys >= entries;
    }, "the entry to reach Redis");

    [Fact]
    public async Task TwoGateways_ShareOneEntry_BackendCalledOnce()
    {
        await using var redis = await TestRedis.StartAsync();
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/shared", "stored by one {n}", 200, ("Cache-Control", "max-age=60"), ("ETag", "\"e1\""), ("X-Custom", "kept"));
        await using var a = await TestGateway.StartAsync(Config(backend, redis));
        await using var b = await TestGateway.StartAsync(Config(backend, redis));

        using var miss = await GetAsync(a, "/shared");
        await StoredAsync(redis, 1);
        using var hit = await GetAsync(b, "/shared");

        Assert.Equal("stored by one 1", await hit.Content.ReadAsStringAsync());
        Assert.StartsWith("Gatehouse; hit", hit.Headers.GetValues("Cache-Status").Single(), StringComparison.Ordinal);
        Assert.Equal("kept", hit.Headers.GetValues("X-Custom").Single());
        Assert.Equal("\"e1\"", hit.Headers.ETag!.ToString());
        Assert.Equal(1, backend.Count("/shared"));
    }

    [Fact]
    public async Task Purge_OnOneGateway_RemovesTheSharedEntryForBoth()
    {
        await using var redis = await TestRedis.StartAsync();
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/catalog/1", "one {n}", 200, ("Cache-Control", "max-age=60"), ("Surrogate-Key", "p1"));
        backend.Answer("/catalog/2", "two {n}", 200, ("Cache-Control", "max-age=60"), ("Surrogate-Key", "p2"));
        await using var a = await TestGateway.StartAsync(Config(backend, redis));
        await using var b = await TestGateway.StartAsync(Config(backend, redis));
        (await GetAsync(a, "/catalog/1")).Dispose();
        (await GetAsync(a, "/catalog/2")).Dispose();
        await StoredAsync(redis, 2);

        var byTag = await CachePurgeTests.PurgeAsync(b, """{"tag": "p1"}""");
        var byPrefix = await CachePurgeTests.PurgeAsync(b, """{"prefix": "/catalog/"}""");

        Assert.Equal(1, byTag);
        Assert.Equal(1, byPrefix);
        Assert.Equal("one 2", await GetStringAsync(b, "/catalog/1"));
        Assert.Equal("two 2", await GetStringAsync(a, "/catalog/2"));
        Assert.Equal(1, await CachePurgeTests.PurgeAsync(a, $$"""{"url": "http://api.example/catalog/1"}"""));
    }

    [Fact]
    public async Task RedisDown_EveryRequestIsAMiss_NeverAnError()
    {
        await using var redis = await TestRedis.StartAsync();
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "n{n}", 200, ("Cache-Control", "max-age=60"));
        await using var gateway = await TestGateway.StartAsync(Config(backend, redis));
        (await GetAsync(gateway, "/r")).Dispose();
        await redis.KillAsync();

        var started = DateTime.UtcNow;
        using var first = await GetAsync(gateway, "/r");
        using var second = await GetAsync(gateway, "/r");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("n3", await second.Content.ReadAsStringAsync());
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "a Redis that is down must not hold requests up");
    }

    [Fact]
    public async Task RedisSlow_RequestsDoNotWaitPastTheTimeout()
    {
        await using var redis = await TestRedis.StartAsync();
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "n{n}", 200, ("Cache-Control", "max-age=60"));
        await using var gateway = await TestGateway.StartAsync(Config(backend, redis));
        (await GetAsync(gateway, "/warm")).Dispose();
        await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.AdminConnection);
        var sleeping = admin.GetDatabase().ExecuteAsync("DEBUG", "SLEEP", "2");
        await Task.Delay(50);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await GetAsync(gateway, "/r");
        var took = clock.Elapsed;
        await sleeping;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("n1", await response.Content.ReadAsStringAsync());
        Assert.True(took < TimeSpan.FromMilliseconds(1500), $"took {took.TotalMilliseconds}ms with a 250ms timeout");
    }

    [Fact]
    public async Task RedisStore_StaleIfError_SharedStaleEntryServedByTheOtherNode()
    {
        await using var redis = await TestRedis.StartAsync();
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "kept", 200, ("Cache-Control", "max-age=1"));
        var config = Config(backend, redis, "{ store: redis, staleIfError: 5m }");
        await using var a = await TestGateway.StartAsync(config);
        await using var b = await TestGateway.StartAsync(config);
        (await GetAsync(a, "/r")).Dispose();
        await StoredAsync(redis, 1);
        await ResponseCacheTests.WaitUntilStaleAsync();
        await backend.StopAsync();

        using var response = await GetAsync(b, "/r");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("kept", await response.Content.ReadAsStringAsync());
    }
}
