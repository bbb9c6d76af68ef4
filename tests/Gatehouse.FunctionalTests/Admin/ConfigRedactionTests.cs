using System.Net;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Admin;

/// <summary>GET /config shows the effective config and none of its secrets.</summary>
public sealed class ConfigRedactionTests
{
    private const string AdminToken = "admin-token-that-must-not-leak";
    private const string RedisPassword = "redis-password-that-must-not-leak";
    private const string BackendBearer = "backend-bearer-that-must-not-leak";
    private const string BackendApiKey = "backend-key-that-must-not-leak";
    private const string UrlPassword = "url-password-that-must-not-leak";
    private const string ApiKeyHash = "sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";

    [Fact]
    public async Task Config_EverySecret_Redacted_RestShown()
    {
        await using var gateway = await TestGateway.StartAsync($$"""
            admin: { listen: "http://127.0.0.1:0", token: "${ADMIN_TOKEN}" }
            redis: { connection: "127.0.0.1:6379,password={{RedisPassword}},abortConnect=false" }
            consumers:
              alice: { apiKeys: ["{{ApiKeyHash}}"] }
            services:
              users:
                targets: ["http://gateway:{{UrlPassword}}@127.0.0.1:1"]
                loadBalancing: roundRobin
            routes:
              - name: users
                match: { path: "/api/users/{**rest}" }
                service: users
                headers: { set: { Authorization: "Bearer {{BackendBearer}}", X-Api-Key: "{{BackendApiKey}}", X-Env: prod } }
            """, variables: new Dictionary<string, string> { ["ADMIN_TOKEN"] = AdminToken });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/config");
        request.Headers.Authorization = new("Bearer", AdminToken);

        var response = await gateway.Admin!.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        foreach (var secret in new[] { AdminToken, RedisPassword, BackendBearer, BackendApiKey, UrlPassword, ApiKeyHash })
        {
            Assert.DoesNotContain(secret, body, StringComparison.Ordinal);
        }

        using var config = System.Text.Json.JsonDocument.Parse(body);
        var root = config.RootElement;
        Assert.Equal("***", root.GetProperty("admin").GetProperty("token").GetString());
        Assert.Equal("127.0.0.1:6379,password=***,abortConnect=false", root.GetProperty("redis").GetProperty("connection").GetString());
        Assert.Equal("***", root.GetProperty("consumers")[0].GetProperty("apiKeys").GetString());
        Assert.Equal("http://***@127.0.0.1:1", root.GetProperty("services")[0].GetProperty("targets")[0].GetProperty("url").GetString());
        var set = root.GetProperty("routes")[0].GetProperty("headers").GetProperty("set");
        Assert.Equal("***", set.GetProperty("Authorization").GetString());
        Assert.Equal("***", set.GetProperty("X-Api-Key").GetString());

        // What is not secret stays readable, with defaults filled in.
        Assert.Equal("prod", set.GetProperty("X-Env").GetString());
        Assert.Equal("roundRobin", root.GetProperty("services")[0].GetProperty("loadBalancing").GetString());
        Assert.Equal("/api/users/{**rest}", root.GetProperty("routes")[0].GetProperty("match").GetProperty("path").GetString());
        Assert.Equal(8192, root.GetProperty("limits").GetProperty("maxUrlBytes").GetInt64());
        Assert.Equal("50ms", root.GetProperty("redis").GetProperty("timeout").GetString());
    }

    [Fact]
    public async Task RoutesAndServices_DoNotLeakSecretsEither()
    {
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              users: { targets: ["http://gateway:{{UrlPassword}}@127.0.0.1:1"] }
            routes:
              - name: users
                match: { path: "/api/users/{**rest}" }
                service: users
                headers: { set: { Authorization: "Bearer {{BackendBearer}}" } }
            """);

        var routes = await gateway.Admin!.GetStringAsync("/routes");
        var services = await gateway.Admin!.GetStringAsync("/services");

        Assert.DoesNotContain(BackendBearer, routes, StringComparison.Ordinal);
        Assert.DoesNotContain(UrlPassword, services, StringComparison.Ordinal);
        Assert.Contains("http://***@127.0.0.1:1", services, StringComparison.Ordinal);
    }
}
