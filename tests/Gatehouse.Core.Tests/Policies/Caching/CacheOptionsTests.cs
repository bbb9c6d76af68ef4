using Gatehouse.Configuration;
using Gatehouse.Policies.Caching;

namespace Gatehouse.Core.Tests.Policies.Caching;

public class CacheOptionsTests
{
    private static string Config(string cache, string top = "") => $$"""
        {{top}}
        services:
          a: { targets: ["http://127.0.0.1:1"] }
        routes:
          - { name: r, match: { path: /x }, service: a, cache: {{cache}} }
        """;

    [Fact]
    public void Accepts_IssueExample_BindsEveryKey()
    {
        var options = ConfigLoader.Load(Config(
            "{ ttl: 60s, store: memory, varyBy: { query: [page, sort], headers: [Accept-Language] }, maxEntryBytes: 1MB, staleWhileRevalidate: 10s, staleIfError: 5m }",
            "cache: { memory: { maxBytes: 256MB } }"), "t.yaml", _ => null);

        var cache = options.Routes[0].Cache!;
        Assert.Equal(TimeSpan.FromSeconds(60), cache.Ttl);
        Assert.Equal(CacheStoreKind.Memory, cache.Store);
        Assert.Equal(["page", "sort"], cache.VaryByQuery!);
        Assert.Equal(["Accept-Language"], cache.VaryByHeaders);
        Assert.Equal(1024 * 1024, cache.MaxEntryBytes);
        Assert.Equal(TimeSpan.FromSeconds(10), cache.StaleWhileRevalidate);
        Assert.Equal(TimeSpan.FromMinutes(5), cache.StaleIfError);
        Assert.False(cache.KeyByConsumer);
        Assert.Equal("Surrogate-Key", cache.TagHeader);
        Assert.Equal(256L * 1024 * 1024, options.Cache.MemoryMaxBytes);
    }

    [Fact]
    public void Accepts_CredentialHeaders_BindsThem() =>
        Assert.Equal(["X-Auth-Token"], ConfigLoader.Load(Config("{ credentialHeaders: [X-Auth-Token] }"), "t.yaml", _ => null).Routes[0].Cache!.CredentialHeaders);

    [Fact]
    public void Accepts_Defaults_WhenOnlyCacheIsGiven()
    {
        var options = ConfigLoader.Load(Config("{}"), "t.yaml", _ => null);

        var cache = options.Routes[0].Cache!;
        Assert.Equal((TimeSpan.FromSeconds(60), CacheStoreKind.Memory, null, 1024L * 1024), (cache.Ttl, cache.Store, cache.VaryByQuery, cache.MaxEntryBytes));
        Assert.Equal(256L * 1024 * 1024, options.Cache.MemoryMaxBytes);
    }

    [Theory]
    [InlineData("{ tagHeader: X-Tags }")]
    [InlineData("{ ttl: 5m, overrideTtl: true }")]
    [InlineData("{ varyBy: { query: [] } }")]
    [InlineData("{ varyBy: { headers: [Accept, Accept-Encoding] } }")]
    [InlineData("{ credentialHeaders: [X-Auth-Token, X-Session] }")]
    public void Accepts_ValidRouteCaches(string cache) => ConfigLoader.Load(Config(cache), "t.yaml", _ => null);

    [Fact]
    public void Accepts_RedisStore_WithTopLevelRedis() =>
        Assert.Equal(CacheStoreKind.Redis, ConfigLoader.Load(Config("{ store: redis }", "redis: { connection: \"127.0.0.1:6379\" }"), "t.yaml", _ => null).Routes[0].Cache!.Store);

    [Theory]
    [InlineData("{ store: redis }", "", "no top-level 'redis")]
    [InlineData("{ store: disk }", "", "disk")]
    [InlineData("{ ttl: 60 }", "", "needs a unit")]
    [InlineData("{ ttl: 0s }", "", "greater than zero")]
    [InlineData("{ maxEntryBytes: 2MB }", "cache: { memory: { maxBytes: 1MB } }", "exceeds cache.memory.maxBytes")]
    [InlineData("{ varyBy: { headers: [Authorization] } }", "", "use keyByConsumer")]
    [InlineData("{ varyBy: { headers: [Cookie] } }", "", "'Cookie' cannot be keyed on")]
    [InlineData("{ varyBy: { headers: [Accept, accept] } }", "", "lists a header twice")]
    [InlineData("{ varyBy: { query: [page, page] } }", "", "lists a parameter twice")]
    [InlineData("{ varyBy: { headers: [\"Bad Header\"] } }", "", "is not a header name")]
    [InlineData("{ varyBy: { cookies: [a] } }", "", "cookies")]
    [InlineData("{ overrideTtl: true }", "", "needs an explicit 'ttl'")]
    [InlineData("{ tagHeader: \"\" }", "", "tagHeader is not a header name")]
    [InlineData("{ colour: blue }", "", "colour")]
    [InlineData("{ credentialHeaders: [\"X Token\"] }", "", "credentialHeaders: 'X Token' is not a header name")]
    [InlineData("{ credentialHeaders: [X-Token, x-token] }", "", "credentialHeaders lists a header twice")]
    [InlineData("{ credentialHeaders: [X-Token], varyBy: { headers: [X-Token] } }", "", "'X-Token' is a credential header and cannot be keyed on")]
    [InlineData("{}", "cache: { memory: { maxBytes: 1KB } }", "at least 64KB")]
    [InlineData("{}", "cache: { disk: {} }", "disk")]
    public void Rejects_InvalidCaches(string cache, string top, string fragment)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Config(cache, top), "t.yaml", _ => null));
        Assert.Contains(e.Errors, x => x.Message.Contains(fragment, StringComparison.Ordinal));
    }

    private static string AuthConfig(string topAuth, string routeAuth) => $$"""
        consumers:
          alice: { apiKeys: ["sha256:{{new string('a', 64)}}"] }
        {{topAuth}}
        services:
          a: { targets: ["http://127.0.0.1:1"] }
        routes:
          - name: r
            match: { path: /x }
            service: a
            {{routeAuth}}
            cache: { keyByConsumer: true, tagHeader: X-Tags }
        """;

    [Theory]
    [InlineData("", "auth: { providers: [apiKey] }")]
    [InlineData("auth: { providers: [apiKey] }", "")]
    public void Accepts_KeyByConsumer_OnAnAuthenticatedRoute(string topAuth, string routeAuth) =>
        Assert.True(ConfigLoader.Load(AuthConfig(topAuth, routeAuth), "t.yaml", _ => null).Routes[0].Cache!.KeyByConsumer);

    [Theory]
    [InlineData("", "", "no auth")]
    [InlineData("", "auth: anonymous", "auth: anonymous")]
    [InlineData("auth: { providers: [apiKey] }", "auth: anonymous", "auth: anonymous")]
    public void Rejects_KeyByConsumer_OnAnAnonymousRoute_AtTheKey(string topAuth, string routeAuth, string why)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(AuthConfig(topAuth, routeAuth), "t.yaml", _ => null));

        var error = Assert.Single(e.Errors, x => x.Message.Contains("keyByConsumer", StringComparison.Ordinal));
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.Equal(("t.yaml", 11, 14), (error.File, error.Line, error.Column));
    }

    [Fact]
    public void Rejects_VaryByAuthorization_HintSaysKeyByConsumerNeedsAuthentication()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Config("{ varyBy: { headers: [Authorization] } }"), "t.yaml", _ => null));

        Assert.Contains(e.Errors, x => x.Message.Contains("keyByConsumer: true on a route that authenticates its callers", StringComparison.Ordinal));
    }

    [Fact]
    public void Rejects_RedisEntryLargerThan16MB()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(
            Config("{ store: redis, maxEntryBytes: 32MB }", "redis: { connection: \"127.0.0.1:6379\" }\ncache: { memory: { maxBytes: 64MB } }"), "t.yaml", _ => null));
        Assert.Contains(e.Errors, x => x.Message.Contains("at most 16MB", StringComparison.Ordinal));
    }
}
