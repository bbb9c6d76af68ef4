using System.Net;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Proxy;

public class ForwardingTests
{
    private static string Config(TestBackend backend) => $$"""
        services:
          users: { targets: ["{{backend.Url}}"] }
        routes:
          - name: rewrite
            match: { path: "/api/users/{**rest}" }
            service: users
            rewrite: { path: "/users/{**rest}" }
            headers: { set: { X-Env: prod }, add: { X-Added: one }, remove: [X-Debug] }
            responseHeaders: { set: { X-Served-By: gatehouse }, remove: [X-Backend] }
          - name: strip
            match: { path: "/v1/{**rest}" }
            service: users
            rewrite: { stripPrefix: /v1 }
        """;

    [Fact]
    public async Task Forward_RewriteAndHeaderEdits_ReachBackendAndClient()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/users/42?x=1");
        request.Headers.Add("X-Debug", "secret");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("GET /users/42?x=1", await response.Content.ReadAsStringAsync());
        Assert.Equal("prod", response.Headers.GetValues("X-Echo-X-Env").Single());
        Assert.Equal("one", response.Headers.GetValues("X-Echo-X-Added").Single());
        Assert.False(response.Headers.Contains("X-Echo-X-Debug"));
        Assert.Equal("gatehouse", response.Headers.GetValues("X-Served-By").Single());
        Assert.False(response.Headers.Contains("X-Backend"));
    }

    [Fact]
    public async Task Forward_StripPrefix_RemovesPrefix()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        Assert.Equal("GET /orders/7", await gateway.Client.GetStringAsync("/v1/orders/7"));
    }

    [Fact]
    public async Task Forward_SetsForwardedHeaders_AndDropsClientSentOnes()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/x");
        request.Headers.Add("X-Forwarded-For", "6.6.6.6");
        request.Headers.Host = "shop.example.com";

        using var response = await gateway.Client.SendAsync(request);

        // No proxy is trusted by default, so a client's X-Forwarded-For is replaced, not extended.
        Assert.Equal("127.0.0.1", response.Headers.GetValues("X-Echo-X-Forwarded-For").Single());
        Assert.Equal("http", response.Headers.GetValues("X-Echo-X-Forwarded-Proto").Single());
        Assert.Equal("shop.example.com", response.Headers.GetValues("X-Echo-X-Forwarded-Host").Single());
    }

    [Fact]
    public async Task Forward_RequestId_KeptFromClientOrGenerated_AndEchoed()
    {
        await using var backend = await TestBackend.StartAsync(app => app.Map("/{**p}", context =>
        {
            // A backend that sets its own id must not produce two ids on the response.
            context.Response.Headers["X-Request-Id"] = "backend-id";
            context.Response.Headers["X-Seen-Id"] = context.Request.Headers["X-Request-Id"];
            return Task.CompletedTask;
        }));
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        using var withId = new HttpRequestMessage(HttpMethod.Get, "/v1/a");
        withId.Headers.Add("X-Request-Id", "client-abc");
        using var response1 = await gateway.Client.SendAsync(withId);
        using var response2 = await gateway.Client.GetAsync("/v1/b");

        Assert.Equal("client-abc", response1.Headers.GetValues("X-Seen-Id").Single());
        Assert.Equal("client-abc", response1.Headers.GetValues("X-Request-Id").Single());
        var generated = response2.Headers.GetValues("X-Request-Id").Single();
        Assert.NotEqual("backend-id", generated);
        Assert.Equal(generated, response2.Headers.GetValues("X-Seen-Id").Single());
    }

    [Fact]
    public async Task Forward_PostBody_ArrivesWhole()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        using var response = await gateway.Client.PostAsync("/v1/upload", new ByteArrayContent(new byte[300_000]));

        Assert.Equal("300000", response.Headers.GetValues("X-Body-Bytes").Single());
    }

    [Fact]
    public async Task Forward_LoadBalancing_SpreadsOverTargets()
    {
        await using var a = await TestBackend.StartEchoAsync("a");
        await using var b = await TestBackend.StartEchoAsync("b");
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              pool: { targets: ["{{a.Url}}", "{{b.Url}}"], loadBalancing: roundRobin }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: pool }
            """);

        for (var i = 0; i < 10; i++)
        {
            using var _ = await gateway.Client.GetAsync("/x");
        }

        Assert.Equal(5, a.Requests);
        Assert.Equal(5, b.Requests);
    }
}
