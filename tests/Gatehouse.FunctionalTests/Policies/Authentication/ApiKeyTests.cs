using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Authentication;

public class ApiKeyTests
{
    private static string Hash(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string Config(TestBackend backend, string extra = "") => $$"""
        consumers:
          mobile-app: { apiKeys: ["{{Hash("key-mobile")}}"] }
          partner: { apiKeys: ["{{Hash("key-partner")}}"] }
        {{extra}}
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          - name: orders
            match: { path: "/orders/{**rest}" }
            service: s
            auth: { providers: [apiKey] }
            forwardClaims: { consumer: X-Consumer }
          - { name: public, match: { path: "/{**rest}" }, service: s }
        """;

    private static async Task<HttpResponseMessage> GetAsync(TestGateway gateway, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await gateway.Client.SendAsync(request);
    }

    private static async Task AssertUnauthenticatedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("ApiKey header=\"X-Api-Key\"", response.Headers.WwwAuthenticate.ToString());
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("https://gatehouse.dev/problems/unauthenticated", body.RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task ValidKey_Forwarded_WithConsumer_WithoutKey()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        using var response = await GetAsync(gateway, "/orders/1", ("X-Api-Key", "key-mobile"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("mobile-app", response.Headers.GetValues("X-Echo-X-Consumer").Single());
        Assert.False(response.Headers.Contains("X-Echo-X-Api-Key"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    [InlineData("")]
    public async Task MissingOrWrongKey_401_NothingForwarded(string? key)
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        using var response = key is null ? await GetAsync(gateway, "/orders/1") : await GetAsync(gateway, "/orders/1", ("X-Api-Key", key));

        await AssertUnauthenticatedAsync(response);
        Assert.Equal(0, backend.Requests);
    }

    [Fact]
    public async Task SpoofedIdentityHeader_StrippedEverywhere()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        using var authenticated = await GetAsync(gateway, "/orders/1", ("X-Api-Key", "key-partner"), ("X-Consumer", "admin"));
        using var anonymous = await GetAsync(gateway, "/public", ("X-Consumer", "admin"), ("X-Api-Key", "key-mobile"));

        Assert.Equal("partner", authenticated.Headers.GetValues("X-Echo-X-Consumer").Single());
        Assert.False(anonymous.Headers.Contains("X-Echo-X-Consumer"));
        Assert.False(anonymous.Headers.Contains("X-Echo-X-Api-Key"));
    }

    [Fact]
    public async Task KeyInQuery_RefusedUnlessEnabled_AndStrippedWhenUsed()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var off = await TestGateway.StartAsync(Config(backend));
        await using var on = await TestGateway.StartAsync(Config(backend, "apiKey: { queryParameter: api_key }"));

        using var refused = await GetAsync(off, "/orders/1?api_key=key-mobile");
        var accepted = await on.Client.GetStringAsync("/orders/1?page=2&api_key=key-mobile");

        await AssertUnauthenticatedAsync(refused);
        Assert.Equal("GET /orders/1?page=2", accepted);
    }

    [Theory]
    [InlineData("/orders/1?page=2&API_KEY=key-mobile", "GET /orders/1?page=2")]
    [InlineData("/orders/1?Api_Key=key-mobile&page=2", "GET /orders/1?page=2")]
    [InlineData("/orders/1?page=2&api%5FKEY=key-mobile", "GET /orders/1?page=2")]
    [InlineData("/orders/1?API_KEY=key-mobile", "GET /orders/1")]
    [InlineData("/public?x=1&API_KEY=key-mobile&Api_key=other", "GET /public?x=1")]
    public async Task KeyInQuery_AnyCase_RemovedBeforeForwarding(string target, string forwarded)
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, "apiKey: { queryParameter: api_key }"));

        using var response = await GetAsync(gateway, target);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(forwarded, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/orders/1?a=%2B&api_key=key-mobile&c+d=x&e", "GET /orders/1?a=%2B&c+d=x&e")]
    [InlineData("/public?a=%2B&c+d=x&e&API_KEYS=1", "GET /public?a=%2B&c+d=x&e&API_KEYS=1")]
    public async Task KeyInQuery_RestOfQueryForwardedAsSent(string target, string forwarded)
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, "apiKey: { queryParameter: api_key }"));

        using var response = await GetAsync(gateway, target);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(forwarded, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task DefaultAuth_AppliesToEveryRoute_AnonymousOptsOut()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            auth: { providers: [apiKey] }
            consumers:
              app: { apiKeys: ["{{Hash("k")}}"] }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: health, match: { path: "/health" }, service: s, auth: anonymous }
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        using var open = await GetAsync(gateway, "/health");
        using var closed = await GetAsync(gateway, "/data");
        using var withKey = await GetAsync(gateway, "/data", ("X-Api-Key", "k"));

        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        await AssertUnauthenticatedAsync(closed);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
    }

    [Fact]
    public async Task Reload_RevokedKey_StopsWorking()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        using var before = await GetAsync(gateway, "/orders/1", ("X-Api-Key", "key-partner"));
        await gateway.RewriteConfigAsync(Config(backend).Replace(Hash("key-partner"), Hash("key-partner-rotated"), StringComparison.Ordinal));
        using var after = await GetAsync(gateway, "/orders/1", ("X-Api-Key", "key-partner"));

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        await AssertUnauthenticatedAsync(after);
    }
}
