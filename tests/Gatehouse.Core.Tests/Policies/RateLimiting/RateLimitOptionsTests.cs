using Gatehouse.Configuration;
using Gatehouse.Policies.RateLimiting;

namespace Gatehouse.Core.Tests.Policies.RateLimiting;

public class RateLimitOptionsTests
{
    private static string Config(string policies, string redis = "", string routeLimits = "[p]") => $$"""
        {{redis}}
        rateLimits:
        {{policies}}
        services:
          a: { targets: ["http://127.0.0.1:1"] }
        routes:
          - { name: r, match: { path: /x }, service: a, rateLimit: {{routeLimits}} }
        """;

    [Fact]
    public void Accepts_IssueExample_BindsEveryKey()
    {
        var options = ConfigLoader.Load(Config(
            "  p: { algorithm: gcra, limit: 100, window: 1m, burst: 20, key: consumer, store: redis, onStoreFailure: deny, mode: shadow, headers: onReject, legacyHeaders: true }",
            "redis: { connection: \"127.0.0.1:6379\", timeout: 20ms }"), "t.yaml", _ => null);

        var policy = Assert.Single(options.RateLimits);
        Assert.Equal(("p", RateLimitAlgorithm.Gcra, 100, TimeSpan.FromMinutes(1), 20), (policy.Name, policy.Algorithm, policy.Limit, policy.Window, policy.Burst));
        Assert.Equal(["consumer"], policy.Key);
        Assert.Equal(RateLimitStoreKind.Redis, policy.Store);
        Assert.True(policy.DenyOnStoreFailure && policy.Shadow && policy.LegacyHeaders);
        Assert.Equal(RateLimitHeaderMode.OnReject, policy.Headers);
        Assert.Equal(TimeSpan.FromMilliseconds(20), options.Redis!.Timeout);
        Assert.Equal(["p"], options.Routes[0].RateLimit);
    }

    [Theory]
    [InlineData("  p: { limit: 5 }")]
    [InlineData("  p: { limit: 5, key: [consumer, route, \"header:X-Tenant\", \"claim:realm_access.roles\"] }")]
    [InlineData("  p: { algorithm: tokenBucket, limit: 5, window: 1s, burst: 50 }")]
    [InlineData("  p: { algorithm: slidingWindow, limit: 2000000, window: 1d }")]
    [InlineData("  p: { algorithm: concurrency, limit: 10, key: route }")]
    public void Accepts_ValidPolicies(string policies) => ConfigLoader.Load(Config(policies), "t.yaml", _ => null);

    [Theory]
    [InlineData("  p: { window: 1m }", "needs a 'limit'")]
    [InlineData("  p: { limit: 0 }", "whole number from 1")]
    [InlineData("  p: { limit: 5, algorithm: leakyBucket }", "leakyBucket")]
    [InlineData("  p: { limit: 5, key: cookie }", "'cookie' is not a key part")]
    [InlineData("  p: { limit: 5, key: \"header:\" }", "'header:' is not a key part")]
    [InlineData("  p: { limit: 5, key: [ip, ip] }", "lists a part twice")]
    [InlineData("  p: { limit: 5, window: 10ms }", "at least 100ms")]
    [InlineData("  p: { limit: 5, window: 2d }", "at most 1d")]
    [InlineData("  p: { limit: 5, algorithm: fixedWindow, burst: 10 }", "burst applies to gcra and tokenBucket only")]
    [InlineData("  p: { limit: 3000000, algorithm: slidingWindow }", "at most 2,000,000")]
    [InlineData("  p: { limit: 5, store: redis }", "no top-level 'redis")]
    [InlineData("  p: { limit: 5, onStoreFailure: deny }", "applies to store: redis only")]
    [InlineData("  p: { limit: 5, algorithm: concurrency, window: 1m }", "does not apply to a concurrency limit")]
    [InlineData("  p: { limit: 5, batch: 5 }", "applies to store: hybrid only")]
    [InlineData("  p: { limit: 5, mode: dryRun }", "dryRun")]
    public void Rejects_InvalidPolicies(string policies, string fragment)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Config(policies), "t.yaml", _ => null));
        Assert.Contains(e.Errors, x => x.Message.Contains(fragment, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("  p: { limit: 5, algorithm: concurrency, store: redis }", "leak its Redis leases")]
    [InlineData("  p: { limit: 5, algorithm: fixedWindow, store: hybrid }", "hybrid works with algorithm: gcra only")]
    [InlineData("  p: { limit: 5, store: hybrid, batch: 10 }", "cannot exceed the burst")]
    public void Rejects_InvalidSharedPolicies(string policies, string fragment)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Config(policies, "redis: { connection: \"127.0.0.1:6379\" }"), "t.yaml", _ => null));
        Assert.Contains(e.Errors, x => x.Message.Contains(fragment, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("[q]", "rate limit 'q', which is not defined")]
    [InlineData("[pp]", "did you mean 'p'")]
    [InlineData("[p, p]", "lists rate limit 'p' twice")]
    public void Rejects_RouteReferences(string routeLimits, string fragment)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Config("  p: { limit: 5 }", routeLimits: routeLimits), "t.yaml", _ => null));
        var error = Assert.Single(e.Errors, x => x.Message.Contains(fragment, StringComparison.Ordinal));
        Assert.Equal(7, error.Line);
    }

    [Fact]
    public void Rejects_RedisWithoutConnection_AndTooLongTimeout()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Config("  p: { limit: 5 }", "redis: { timeout: 10s }"), "t.yaml", _ => null));
        Assert.Contains(e.Errors, x => x.Message.Contains("redis needs a 'connection'", StringComparison.Ordinal));
        e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Config("  p: { limit: 5 }", "redis: { connection: \"h:1\", timeout: 10s }"), "t.yaml", _ => null));
        Assert.Contains(e.Errors, x => x.Message.Contains("at most 5s", StringComparison.Ordinal));
    }

    [Fact]
    public void RedisOptions_NeverPrintTheConnectionString()
    {
        var options = new Gatehouse.Redis.RedisOptions { Connection = "h:6379,password=secret" };
        Assert.DoesNotContain("secret", options.ToString(), StringComparison.Ordinal);
    }
}
