using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Caching;

/// <summary>
/// Classic cache-poisoning and cross-user leaks: an attacker's unkeyed input must never change what another client
/// is served, and an authenticated answer must never reach another consumer.
/// </summary>
public class CachePoisoningTests
{
    private static async Task<string> GetAsync(TestGateway gateway, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await gateway.Client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>A backend (IIS, Symfony) that serves the URL named in X-Original-URL instead of the request line's.</summary>
    private static void ServeAdminPageWhenSent(CachingBackend backend, string header) => backend.Handle("/public", context =>
    {
        context.Response.Headers.CacheControl = "max-age=60";
        return context.Response.WriteAsync(context.Request.Headers.ContainsKey(header) ? "admin page" : "public page");
    });

    [Fact]
    public async Task XForwardedHost_FromTheAttacker_NeverReachesTheStoredPage()
    {
        await using var backend = await CachingBackend.StartAsync();

        // A backend that builds absolute links from X-Forwarded-Host, as many frameworks do.
        backend.Handle("/page", context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            return context.Response.WriteAsync("<script src=\"//" + context.Request.Headers["X-Forwarded-Host"] + "/app.js\">");
        });
        await using var gateway = await TestGateway.StartAsync(ResponseCacheTests.Config(backend));

        var attacker = await GetAsync(gateway, "/page", ("X-Forwarded-Host", "evil.example"));
        var victim = await GetAsync(gateway, "/page");

        Assert.DoesNotContain("evil.example", attacker, StringComparison.Ordinal);
        Assert.DoesNotContain("evil.example", victim, StringComparison.Ordinal);
        Assert.Contains(gateway.Url.Authority, victim, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X-Original-URL")]
    [InlineData("X-Rewrite-URL")]
    [InlineData("X-HTTP-Method-Override")]
    public async Task UrlOverrideHeader_KeptByTheOperator_BypassesTheCache_VictimGetsThePublicPage(string header)
    {
        await using var backend = await CachingBackend.StartAsync();

        ServeAdminPageWhenSent(backend, header);
        // These headers are removed before routing unless kept (RequestHeadersTests); kept, the cache must not store
        // an answer they may have shaped.
        await using var gateway = await TestGateway.StartAsync(ResponseCacheTests.Config(backend, extra: $"requestHeaders: {{ keep: [{header}] }}"));

        var attacker = await GetAsync(gateway, "/public", (header, "/admin"));
        var victim = await GetAsync(gateway, "/public");
        var again = await GetAsync(gateway, "/public");

        Assert.Equal("admin page", attacker);
        Assert.Equal("public page", victim);
        Assert.Equal("public page", again);
        Assert.Equal(2, backend.Count("/public"));
    }

    [Theory]
    [InlineData("X-Original-URL")]
    [InlineData("X-HTTP-Method-Override")]
    public async Task UrlOverrideHeader_ByDefault_NeverReachesTheBackend_OneStoredPublicPage(string header)
    {
        await using var backend = await CachingBackend.StartAsync();
        ServeAdminPageWhenSent(backend, header);
        await using var gateway = await TestGateway.StartAsync(ResponseCacheTests.Config(backend));

        var attacker = await GetAsync(gateway, "/public", (header, "/admin"));
        var victim = await GetAsync(gateway, "/public");

        Assert.Equal("public page", attacker);
        Assert.Equal("public page", victim);
        Assert.Equal(1, backend.Count("/public"));
    }

    [Fact]
    public async Task GetWithABody_BypassesTheCache_VictimGetsThePageOfTheUrl()
    {
        // Fat GET: a backend (many frameworks) that reads a GET's body answers by it, but the body is not keyed.
        await using var backend = await CachingBackend.StartAsync();
        backend.Handle("/search", async context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            await context.Response.WriteAsync(body.Length > 0 ? "results for " + body : "all results");
        });
        await using var gateway = await TestGateway.StartAsync(ResponseCacheTests.Config(backend));

        using var fat = new HttpRequestMessage(HttpMethod.Get, "/search") { Content = new StringContent("<script>evil</script>") };
        using var attacker = await gateway.Client.SendAsync(fat);
        var victim = await GetAsync(gateway, "/search");

        Assert.Equal("results for <script>evil</script>", await attacker.Content.ReadAsStringAsync());
        Assert.Equal("all results", victim);
        Assert.Equal(2, backend.Count("/search"));
    }

    [Fact]
    public async Task UnkeyedQueryParameter_BypassesTheCache_VictimGetsTheCleanPage()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Handle("/list", context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            return context.Response.WriteAsync("page " + context.Request.Query["page"] + " " + context.Request.Query["callback"]);
        });
        await using var gateway = await TestGateway.StartAsync(ResponseCacheTests.Config(backend, "{ varyBy: { query: [page] } }"));

        var attacker = await GetAsync(gateway, "/list?page=1&callback=alert(1)");
        var victim = await GetAsync(gateway, "/list?page=1");

        Assert.Contains("alert(1)", attacker, StringComparison.Ordinal);
        Assert.Equal("page 1 ", victim);
    }

    [Fact]
    public async Task UnkeyedRequestHeader_NotUsedByTheBackendUnlessVaried_ThenKeyed()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Handle("/r", context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            context.Response.Headers.Vary = "X-Theme";
            return context.Response.WriteAsync("theme " + context.Request.Headers["X-Theme"]);
        });
        await using var gateway = await TestGateway.StartAsync(ResponseCacheTests.Config(backend));

        var attacker = await GetAsync(gateway, "/r", ("X-Theme", "<evil>"));
        var victim = await GetAsync(gateway, "/r");

        Assert.Equal("theme <evil>", attacker);
        Assert.Equal("theme ", victim);
    }

    private static string Hash(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string AuthConfig(CachingBackend backend, string cache) => $$"""
        consumers:
          alice: { apiKeys: ["{{Hash("key-alice")}}"] }
          bob: { apiKeys: ["{{Hash("key-bob")}}"] }
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          - name: me
            match: { path: "/me" }
            service: s
            auth: { providers: [apiKey] }
            forwardClaims: { consumer: X-Consumer }
            cache: {{cache}}
        """;

    private static void AnswerPerConsumer(CachingBackend backend, string cacheControl) =>
        backend.Handle("/me", context =>
        {
            context.Response.Headers.CacheControl = cacheControl;
            return context.Response.WriteAsync("account of " + context.Request.Headers["X-Consumer"]);
        });

    [Fact]
    public async Task AuthenticatedResponse_WithoutPublic_NeverServedToAnotherConsumer()
    {
        await using var backend = await CachingBackend.StartAsync();
        AnswerPerConsumer(backend, "max-age=60");
        await using var gateway = await TestGateway.StartAsync(AuthConfig(backend, "{ ttl: 60s }"));

        var alice = await GetAsync(gateway, "/me", ("X-Api-Key", "key-alice"));
        var bob = await GetAsync(gateway, "/me", ("X-Api-Key", "key-bob"));
        var aliceAgain = await GetAsync(gateway, "/me", ("X-Api-Key", "key-alice"));

        Assert.Equal("account of alice", alice);
        Assert.Equal("account of bob", bob);
        Assert.Equal("account of alice", aliceAgain);
        Assert.Equal(3, backend.Count("/me"));
    }

    [Fact]
    public async Task KeyByConsumer_StoresPerConsumer_EachGetsTheirOwn()
    {
        await using var backend = await CachingBackend.StartAsync();
        AnswerPerConsumer(backend, "max-age=60");
        await using var gateway = await TestGateway.StartAsync(AuthConfig(backend, "{ ttl: 60s, keyByConsumer: true }"));

        var alice = await GetAsync(gateway, "/me", ("X-Api-Key", "key-alice"));
        var bob = await GetAsync(gateway, "/me", ("X-Api-Key", "key-bob"));
        var aliceAgain = await GetAsync(gateway, "/me", ("X-Api-Key", "key-alice"));
        var bobAgain = await GetAsync(gateway, "/me", ("X-Api-Key", "key-bob"));

        Assert.Equal("account of alice", alice);
        Assert.Equal("account of alice", aliceAgain);
        Assert.Equal("account of bob", bob);
        Assert.Equal("account of bob", bobAgain);
        Assert.Equal(2, backend.Count("/me"));
    }

    private static string JwtConfig(CachingBackend backend, TestIdentityProvider idp) => $$"""
        consumers:
          alice: { apiKeys: ["{{Hash("key-alice")}}"] }
        identityProviders:
          corp: { issuer: "{{idp.Issuer}}", audiences: ["urn:gateway"] }
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          - name: me
            match: { path: "/me" }
            service: s
            auth: { providers: [apiKey, corp] }
            cache: { ttl: 60s, keyByConsumer: true }
        """;

    private static async Task<HttpResponseMessage> SendAsync(TestGateway gateway, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task KeyByConsumer_TokenWithoutSubjectOrConsumer_NeitherStoredNorServed()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await CachingBackend.StartAsync();

        // The backend tells callers apart by their token, and sends no Cache-Control (the route's ttl would apply).
        backend.Handle("/me", context => context.Response.WriteAsync("data of " + context.Request.Headers.Authorization.ToString()[^8..]));
        await using var gateway = await TestGateway.StartAsync(JwtConfig(backend, idp));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var svcA = await idp.SignAsync(new { iss = idp.Issuer, aud = "urn:gateway", client_id = "svc-a", iat = now, exp = now + 600 });
        var svcB = await idp.SignAsync(new { iss = idp.Issuer, aud = "urn:gateway", client_id = "svc-b", iat = now, exp = now + 600 });

        using var a = await SendAsync(gateway, "/me", ("Authorization", "Bearer " + svcA));
        using var b = await SendAsync(gateway, "/me", ("Authorization", "Bearer " + svcB));
        using var aAgain = await SendAsync(gateway, "/me", ("Authorization", "Bearer " + svcA));

        Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        Assert.Equal("data of " + svcB[^8..], await b.Content.ReadAsStringAsync());
        Assert.Equal("data of " + svcA[^8..], await aAgain.Content.ReadAsStringAsync());
        Assert.Equal("Gatehouse; fwd=bypass; detail=no-consumer", a.Headers.GetValues("Cache-Status").Single());
        Assert.Equal(3, backend.Count("/me"));
    }

    [Fact]
    public async Task KeyByConsumer_ApiKeyConsumerAndTokenSubjectOfTheSameName_NeverShareAnEntry()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await CachingBackend.StartAsync();
        backend.Handle("/me", context => context.Response.WriteAsync(context.Request.Headers.Authorization.Count > 0 ? "token alice" : "api-key alice"));
        await using var gateway = await TestGateway.StartAsync(JwtConfig(backend, idp));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var token = await idp.SignAsync(new { iss = idp.Issuer, aud = "urn:gateway", sub = "alice", iat = now, exp = now + 600 });

        var byKey = await GetAsync(gateway, "/me", ("X-Api-Key", "key-alice"));
        var byToken = await GetAsync(gateway, "/me", ("Authorization", "Bearer " + token));
        var byTokenAgain = await GetAsync(gateway, "/me", ("Authorization", "Bearer " + token));

        Assert.Equal("api-key alice", byKey);
        Assert.Equal("token alice", byToken);
        Assert.Equal("token alice", byTokenAgain);
        Assert.Equal(2, backend.Count("/me"));
    }

    [Fact]
    public async Task AuthenticatedResponse_MarkedPublic_SharedAsTheBackendAllows()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/me", "the same for everyone", 200, ("Cache-Control", "public, max-age=60"));
        await using var gateway = await TestGateway.StartAsync(AuthConfig(backend, "{ ttl: 60s }"));

        await GetAsync(gateway, "/me", ("X-Api-Key", "key-alice"));
        var bob = await GetAsync(gateway, "/me", ("X-Api-Key", "key-bob"));
        using var anonymous = await gateway.Client.GetAsync("/me");

        Assert.Equal("the same for everyone", bob);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(1, backend.Count("/me"));
    }

    public static TheoryData<string, string, string[], bool> CredentialRows() => new()
    {
        // route cache, credential header ("Name: value"), response headers, stored and served to the next caller
        { "{ ttl: 60s }", "Cookie: session=victim", [], false },
        { "{ ttl: 60s }", "Cookie: session=victim", ["Cache-Control: max-age=60"], false },
        { "{ ttl: 60s }", "Cookie: session=victim", ["Cache-Control: public"], false },
        { "{ ttl: 60s }", "Cookie: session=victim", ["Cache-Control: public, max-age=60"], true },
        { "{ ttl: 60s }", "Cookie: session=victim", ["Cache-Control: s-maxage=60"], true },
        { "{ ttl: 60s }", "Cookie: session=victim", ["Cache-Control: max-age=60, must-revalidate"], true },
        { "{ ttl: 60s, overrideTtl: true }", "Cookie: session=victim", [], false },
        { "{ ttl: 60s }", "Authorization: Bearer victim", ["Cache-Control: max-age=60, must-revalidate"], true },
        { "{ ttl: 60s }", "Authorization: Bearer victim", ["Cache-Control: public"], false },
        { "{ ttl: 60s }", "X-Auth-Token: victim", [], true },
        { "{ ttl: 60s, credentialHeaders: [X-Auth-Token] }", "X-Auth-Token: victim", [], false },
        { "{ ttl: 60s, credentialHeaders: [x-auth-token] }", "X-Auth-Token: victim", ["Cache-Control: max-age=60"], false },
        { "{ ttl: 60s, credentialHeaders: [X-Auth-Token] }", "X-Auth-Token: victim", ["Cache-Control: public, max-age=60"], true },
    };

    /// <summary>RFC 9111 3.5 for every credential, not only Authorization: stored only when the backend says it may be shared.</summary>
    [Theory]
    [MemberData(nameof(CredentialRows))]
    public async Task RequestWithCredentials_StoredOnlyWhenTheBackendAllowsSharing(string cache, string credential, string[] responseHeaders, bool shared)
    {
        await using var backend = await CachingBackend.StartAsync();
        var name = credential[..credential.IndexOf(':')];
        backend.Handle("/account", context =>
        {
            foreach (var header in responseHeaders)
            {
                context.Response.Headers.Append(header[..header.IndexOf(':')], header[(header.IndexOf(':') + 2)..]);
            }

            return context.Response.WriteAsync("page of " + (context.Request.Headers[name].ToString() is { Length: > 0 } v ? v : "nobody"));
        });
        await using var gateway = await TestGateway.StartAsync(ResponseCacheTests.Config(backend, cache));

        var victim = await GetAsync(gateway, "/account", (name, credential[(name.Length + 2)..]));
        var other = await GetAsync(gateway, "/account");

        Assert.Equal("page of " + credential[(name.Length + 2)..], victim);
        Assert.Equal(shared ? victim : "page of nobody", other);
        Assert.Equal(shared ? 1 : 2, backend.Count("/account"));
    }

    [Fact]
    public async Task AuthorizationHeader_OnAnAnonymousRoute_NotStoredWithoutPublic()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Handle("/r", context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            return context.Response.WriteAsync("for " + context.Request.Headers.Authorization);
        });
        await using var gateway = await TestGateway.StartAsync(ResponseCacheTests.Config(backend));

        var first = await GetAsync(gateway, "/r", ("Authorization", "Bearer one"));
        var second = await GetAsync(gateway, "/r", ("Authorization", "Bearer two"));

        Assert.Equal("for Bearer one", first);
        Assert.Equal("for Bearer two", second);
    }
}
