using System.Net;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.RequestHeaders;

/// <summary>
/// Client-sent headers that a backend would take the client's word for never reach it (security review M1, M5; proxy
/// battery): a real gateway in front of an echo backend that returns every header it got as <c>X-Echo-*</c>.
/// </summary>
public class RequestHeadersTests
{
    private static string Config(TestBackend backend, string extra = "") => $$"""
        {{extra}}
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          - { name: all, match: { path: "/{**rest}" }, service: s }
        """;

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/x")
        {
            Version = client.DefaultRequestVersion,
            VersionPolicy = client.DefaultVersionPolicy,
        };
        foreach (var (name, value) in headers)
        {
            Assert.True(request.Headers.TryAddWithoutValidation(name, value), name);
        }

        return await client.SendAsync(request);
    }

    private static bool BackendSaw(HttpResponseMessage response, string name) => response.Headers.Contains("X-Echo-" + name);

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task UnderscoreNames_DroppedByDefault_OverHttp1AndHttp2(string version)
    {
        await using var backend = await TestBackend.StartEchoAsync();
        var listen = version == "2.0" ? "listen: [\"h2c://127.0.0.1:0\"]" : "";
        await using var gateway = await TestGateway.StartAsync(Config(backend, listen));
        using var client = TestGateway.NewClient(gateway.Url, Version.Parse(version));

        // CGI, WSGI and Rack read X_Consumer as X-Consumer: the identity header the gateway strips.
        using var response = await SendAsync(client, ("X_Consumer", "admin"), ("X_Forwarded_For", "6.6.6.6"), ("X-Custom", "kept"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(client.DefaultRequestVersion, response.Version);
        Assert.False(BackendSaw(response, "X_Consumer"));
        Assert.False(BackendSaw(response, "X_Forwarded_For"));
        Assert.Equal("kept", response.Headers.GetValues("X-Echo-X-Custom").Single());
    }

    [Fact]
    public async Task UnderscoreNames_Reject_400ProblemAndBackendNotCalled_Allow_Forwarded()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, "requestHeaders: { underscores: reject }"));

        using (var refused = await SendAsync(gateway.Client, ("Transfer_Encoding", "chunked")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Transfer_Encoding", await refused.Content.ReadAsStringAsync());
            Assert.False(refused.Headers.Contains("X-Backend"));
        }

        await gateway.RewriteConfigAsync(Config(backend, "requestHeaders: { underscores: allow }"));
        using var allowed = await SendAsync(gateway.Client, ("X_Legacy", "1"));
        Assert.Equal("1", allowed.Headers.GetValues("X-Echo-X_Legacy").Single());
    }

    public static TheoryData<string> ClientClaims() => new()
    {
        "X-Real-IP", "X-Client-IP", "True-Client-IP", "CF-Connecting-IP", "X-Forwarded-Port", "X-Forwarded-Scheme",
        "X-Forwarded-Ssl", "X-Forwarded-Server", "X-Host", "X-Original-Host",
    };

    [Theory]
    [MemberData(nameof(ClientClaims))]
    public async Task AddressAndForwardingClaims_RemovedFromClients_KeptFromTrustedProxies(string name)
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        using (var fromClient = await SendAsync(gateway.Client, (name, "evil.example")))
        {
            Assert.Equal(HttpStatusCode.OK, fromClient.StatusCode);
            Assert.False(BackendSaw(fromClient, name));
        }

        // The test client is on 127.0.0.1: trusted, it is a proxy in front of the gateway and its word is taken.
        await gateway.RewriteConfigAsync(Config(backend, "trustedProxies: [127.0.0.1/32]"));
        using var fromProxy = await SendAsync(gateway.Client, (name, "proxy.example"));
        Assert.Equal("proxy.example", fromProxy.Headers.GetValues("X-Echo-" + name).Single());
    }

    [Fact]
    public async Task CachedRoute_PoisoningHeaders_NeverShapeTheStoredAnswer()
    {
        // M5: the backend builds its answer from X-Forwarded-Port / X-Host; a poisoned first request must not decide
        // what a clean second one is served from the cache.
        await using var backend = await TestBackend.StartAsync(app => app.Map("/{**p}", context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            return context.Response.WriteAsync($"https://{context.Request.Headers["X-Host"]}:{context.Request.Headers["X-Forwarded-Port"]}/");
        }));
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: cached, match: { path: "/{**rest}" }, service: s, cache: { ttl: 60s } }
            """);

        using var poisoned = await SendAsync(gateway.Client, ("X-Host", "evil.example"), ("X-Forwarded-Port", "1337"));
        using var clean = await SendAsync(gateway.Client);

        Assert.Equal("https://:/", await poisoned.Content.ReadAsStringAsync());
        Assert.Equal("https://:/", await clean.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("X-Original-URL")]
    [InlineData("X-Rewrite-URL")]
    [InlineData("X-HTTP-Method-Override")]
    public async Task OverrideHeaders_RemovedEvenFromTrustedProxies_UnlessKept(string name)
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, "trustedProxies: [127.0.0.1/32]"));

        using (var removed = await SendAsync(gateway.Client, (name, name.EndsWith("Override", StringComparison.Ordinal) ? "DELETE" : "/admin")))
        {
            Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
            Assert.False(BackendSaw(removed, name));
        }

        await gateway.RewriteConfigAsync(Config(backend, $"trustedProxies: [127.0.0.1/32]\nrequestHeaders: {{ keep: [{name}] }}"));
        using var kept = await SendAsync(gateway.Client, (name, "DELETE"));
        Assert.Equal("DELETE", kept.Headers.GetValues("X-Echo-" + name).Single());
    }
}
