using System.Net;
using System.Text.Json;
using Gatehouse.Configuration;
using Gatehouse.FunctionalTests.Common;
using Gatehouse.Routing;

namespace Gatehouse.FunctionalTests.Routing;

public class MatchingTests
{
    private static string Config(TestBackend backend) => $$"""
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          - { name: users-read, match: { path: "/users/{id:int}", methods: [GET, HEAD] }, service: s }
          - { name: users-write, match: { path: "/users/{id:int}", methods: [PUT] }, service: s }
          - { name: admin-host, match: { path: "/admin/{**rest}", hosts: ["admin.example.com", "*.ops.example.com"] }, service: s }
          - { name: beta, match: { path: "/feature/{**rest}", headers: { X-Beta: ["1", "yes"] } }, service: s }
          - { name: debug-query, match: { path: "/feature/{**rest}", query: { debug: { mode: exists } } }, service: s }
          - { name: feature, match: { path: "/feature/{**rest}", methods: [GET, POST] }, service: s }
          - { name: specific-after-general, match: { path: "/feature/special" }, service: s, headers: { set: { X-Never: x } } }
        """;

    [Theory]
    [InlineData("GET", "http://h/users/1", null, "users-read")]
    [InlineData("PUT", "http://h/users/1", null, "users-write")]
    [InlineData("GET", "http://admin.example.com/admin/x", null, "admin-host")]
    [InlineData("GET", "http://a.ops.example.com/admin/x", null, "admin-host")]
    [InlineData("GET", "http://h/feature/x", "X-Beta: yes", "beta")]
    [InlineData("GET", "http://h/feature/x?debug", null, "debug-query")]
    [InlineData("GET", "http://h/feature/x", null, "feature")]
    [InlineData("GET", "http://h/feature/special", null, "feature")]
    [InlineData("PUT", "http://h/feature/special", null, "specific-after-general")]
    public async Task Match_FirstRouteInFileOrderWins_AndExplainAgrees(string method, string url, string? header, string expectedRoute)
    {
        await using var backend = await TestBackend.StartAsync(app => app.Map("/{**p}", context =>
        {
            context.Response.Headers["X-Never-Seen"] = context.Request.Headers["X-Never"];
            return Task.CompletedTask;
        }));
        var yaml = Config(backend);
        await using var gateway = await TestGateway.StartAsync(yaml);
        var uri = new Uri(url);
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(gateway.Url, uri.PathAndQuery));
        request.Headers.Host = uri.Host;
        var headers = new List<KeyValuePair<string, string>>();
        if (header is not null)
        {
            var parts = header.Split(':', 2);
            request.Headers.Add(parts[0], parts[1].Trim());
            headers.Add(new(parts[0], parts[1].Trim()));
        }

        using var response = await gateway.Client.SendAsync(request);
        var explained = RouteExplainer.Explain(ConfigLoader.Load(TestGateway.WithTestListeners(yaml), "t", _ => null), new ExplainRequest(method, uri, headers));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expectedRoute, explained.MatchedRoute);
        Assert.Equal(expectedRoute == "specific-after-general", response.Headers.TryGetValues("X-Never-Seen", out var never) && never.Any(v => v.Length > 0));
    }

    [Theory]
    [InlineData("POST", "http://h/users/1", 405)]
    [InlineData("GET", "http://h/users/abc", 404)]
    [InlineData("GET", "http://other.example.com/admin/x", 404)]
    [InlineData("GET", "http://h/nothing", 404)]
    public async Task Match_NoRoute_ProblemJson_AndExplainAgrees(string method, string url, int status)
    {
        await using var backend = await TestBackend.StartEchoAsync();
        var yaml = Config(backend);
        await using var gateway = await TestGateway.StartAsync(yaml);
        var uri = new Uri(url);
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(gateway.Url, uri.PathAndQuery));
        request.Headers.Host = uri.Host;

        using var response = await gateway.Client.SendAsync(request);
        var explained = RouteExplainer.Explain(ConfigLoader.Load(TestGateway.WithTestListeners(yaml), "t", _ => null), new ExplainRequest(method, uri, []));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(status, explained.Status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(status, body.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(response.Headers.GetValues("X-Request-Id").Single(), body.RootElement.GetProperty("requestId").GetString());
        Assert.Equal(0, backend.Requests);
        if (status == 405)
        {
            Assert.Equal(["GET", "HEAD", "PUT"], response.Content.Headers.Allow.Order());
            Assert.Equal("https://gatehouse.dev/problems/method-not-allowed", body.RootElement.GetProperty("type").GetString());
        }
        else
        {
            Assert.Equal("https://gatehouse.dev/problems/no-route", body.RootElement.GetProperty("type").GetString());
        }
    }
}
