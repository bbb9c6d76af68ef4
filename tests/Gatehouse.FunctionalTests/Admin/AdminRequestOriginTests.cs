using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gatehouse.Configuration;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Admin;

/// <summary>
/// The token-less loopback admin listener against browsers: a DNS-rebinding page (foreign Host) reads nothing, and a
/// cross-site page cannot make it act (foreign Origin, Sec-Fetch-Site: cross-site, a body that is not JSON).
/// Real gateway, requests as a browser would send them.
/// </summary>
public sealed class AdminRequestOriginTests
{
    private const string Token = "test-admin-token-0123456789abcdef";
    private const string Services = """
        services: { echo: { targets: ["http://127.0.0.1:1"] } }
        routes: [{ name: echo, match: { path: "/{**rest}" }, service: echo }]
        """;

    private static int Port(TestGateway gateway) => gateway.Admin!.BaseAddress!.Port;

    [Theory]
    [InlineData("/config")]
    [InlineData("/config/status")]
    [InlineData("/routes")]
    [InlineData("/services")]
    [InlineData("/circuits")]
    [InlineData("/explain?url=http%3A%2F%2Fh%2Fx")]
    [InlineData("/openapi.json")]
    [InlineData("/metrics")]
    [InlineData("/")]
    [InlineData("/healthz")]
    public async Task Get_RebindingHost_403Problem(string path)
    {
        await using var gateway = await TestGateway.StartAsync(Services);

        using var response = await SendAsync(gateway, HttpMethod.Get, path, host: $"attacker.example:{Port(gateway)}");

        await AssertRefusedAsync(response, HttpStatusCode.Forbidden, "host-not-allowed");
    }

    [Theory]
    [InlineData("attacker.example")]
    [InlineData("127.0.0.1.attacker.example:{port}")]
    [InlineData("localhost.attacker.example:{port}")]
    [InlineData("127.0.0.1:1")]
    [InlineData("localhost")]
    [InlineData("127.0.0.2:{port}")]
    [InlineData("[::1]:1")]
    public async Task Get_ForeignHostOrPort_403(string host)
    {
        await using var gateway = await TestGateway.StartAsync(Services);

        using var response = await SendAsync(gateway, HttpMethod.Get, "/config", host: host.Replace("{port}", Port(gateway).ToString(), StringComparison.Ordinal));

        await AssertRefusedAsync(response, HttpStatusCode.Forbidden, "host-not-allowed");
    }

    [Theory]
    [InlineData("127.0.0.1:{port}")]
    [InlineData("localhost:{port}")]
    [InlineData("LocalHost:{port}")]
    [InlineData("[::1]:{port}")]
    [InlineData("admin.internal:{port}")]
    [InlineData("ADMIN.internal:{port}")]
    [InlineData("tunnel.example:8443")]
    public async Task Get_LoopbackOrConfiguredHost_200(string host)
    {
        await using var gateway = await TestGateway.StartAsync($"admin: {{ listen: \"http://127.0.0.1:0\", allowedHosts: [admin.internal, \"tunnel.example:8443\"] }}\n{Services}");

        using var response = await SendAsync(gateway, HttpMethod.Get, "/config", host: host.Replace("{port}", Port(gateway).ToString(), StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Get_ConfiguredHostWithOtherPort_403()
    {
        await using var gateway = await TestGateway.StartAsync($"admin: {{ listen: \"http://127.0.0.1:0\", allowedHosts: [\"tunnel.example:8443\"] }}\n{Services}");

        using var response = await SendAsync(gateway, HttpMethod.Get, "/config", host: $"tunnel.example:{Port(gateway)}");

        await AssertRefusedAsync(response, HttpStatusCode.Forbidden, "host-not-allowed");
    }

    [Fact]
    public async Task AllowedHosts_ChangedByReload_Applies()
    {
        await using var gateway = await TestGateway.StartAsync(Services);
        var host = $"admin.internal:{Port(gateway)}";
        using var before = await SendAsync(gateway, HttpMethod.Get, "/routes", host: host);

        await gateway.RewriteConfigAsync($"admin: {{ listen: \"http://127.0.0.1:0\", allowedHosts: [admin.internal] }}\n{Services}");
        using var after = await SendAsync(gateway, HttpMethod.Get, "/routes", host: host);

        Assert.Equal(HttpStatusCode.Forbidden, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Get_WithToken_HostNotChecked_TokenIsTheGuard()
    {
        await using var gateway = await TestGateway.StartAsync($"admin: {{ listen: \"http://127.0.0.1:0\", token: \"{Token}\" }}\n{Services}");

        using var withToken = await SendAsync(gateway, HttpMethod.Get, "/config", host: $"10.0.0.5:{Port(gateway)}", token: Token);
        using var withoutToken = await SendAsync(gateway, HttpMethod.Get, "/config", host: $"attacker.example:{Port(gateway)}");

        Assert.Equal(HttpStatusCode.OK, withToken.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withoutToken.StatusCode);
    }

    [Theory]
    [InlineData("/reload", "https://attacker.example", null)]
    [InlineData("/reload", "http://localhost:3000", null)]
    [InlineData("/reload", "null", null)]
    [InlineData("/reload", null, "cross-site")]
    [InlineData("/cache/purge", "https://attacker.example", "cross-site")]
    [InlineData("/cache/purge", "http://127.0.0.1:1", null)]
    [InlineData("/cache/purge", null, "cross-site")]
    public async Task Post_CrossSite_403_NothingDone(string path, string? origin, string? fetchSite)
    {
        await using var gateway = await TestGateway.StartAsync(Services);
        var generation = gateway.Host.Status.Generation;

        using var response = await SendAsync(gateway, HttpMethod.Post, path, origin: origin, fetchSite: fetchSite, body: """{"prefix":"/"}""", contentType: "application/json");

        await AssertRefusedAsync(response, HttpStatusCode.Forbidden, "cross-site-request");
        Assert.Equal(generation, gateway.Host.Status.Generation);
    }

    [Fact]
    public async Task Post_CrossSite_WithToken_403()
    {
        await using var gateway = await TestGateway.StartAsync($"admin: {{ listen: \"http://127.0.0.1:0\", token: \"{Token}\" }}\n{Services}");

        using var response = await SendAsync(gateway, HttpMethod.Post, "/reload", origin: "https://attacker.example", token: Token);

        await AssertRefusedAsync(response, HttpStatusCode.Forbidden, "cross-site-request");
    }

    [Theory]
    [InlineData("/reload", "same-origin")]
    [InlineData("/reload", "none")]
    [InlineData("/reload", null)]
    [InlineData("/cache/purge", "same-origin")]
    public async Task Post_SameOrigin_200(string path, string? fetchSite)
    {
        await using var gateway = await TestGateway.StartAsync(Services);

        using var response = await SendAsync(gateway, HttpMethod.Post, path, origin: $"http://127.0.0.1:{Port(gateway)}", fetchSite: fetchSite,
            body: path == "/cache/purge" ? """{"prefix":"/"}""" : null, contentType: "application/json; charset=utf-8");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData(null)]
    public async Task PostPurge_BodyNotJson_415(string? contentType)
    {
        await using var gateway = await TestGateway.StartAsync(Services);

        using var response = await SendAsync(gateway, HttpMethod.Post, "/cache/purge", body: """{"prefix":"/"}""", contentType: contentType);

        await AssertRefusedAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Theory]
    [InlineData("[admin.internal, \"tunnel.example:8443\", \"[::1]:9000\", 10.0.0.5]")]
    [InlineData("[]")]
    public void Load_AllowedHosts_Accepted(string hosts)
    {
        var options = ConfigLoader.Load($"admin: {{ listen: \"http://127.0.0.1:9901\", allowedHosts: {hosts} }}\n{Services}", "gatehouse.yaml", _ => null);

        Assert.Equal(hosts == "[]" ? 0 : 4, options.Admin.AllowedHosts.Count);
    }

    [Theory]
    [InlineData("\"http://admin.internal\"")]
    [InlineData("\"admin.internal/\"")]
    [InlineData("\"*\"")]
    [InlineData("\"admin internal\"")]
    [InlineData("\"admin.internal:port\"")]
    [InlineData("\"admin.internal:70000\"")]
    [InlineData("\"\"")]
    public void Load_AllowedHostMalformed_RefusedWithPosition(string host)
    {
        var refused = Assert.Throws<ConfigException>(() => ConfigLoader.Load($"admin:\n  listen: \"http://127.0.0.1:9901\"\n  allowedHosts: [{host}]\n{Services}", "gatehouse.yaml", _ => null));

        var error = Assert.Single(refused.Errors);
        Assert.Equal(3, error.Line);
        Assert.Contains("admin.allowedHosts", error.Message, StringComparison.Ordinal);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("https://gatehouse.dev/problems/" + type, body.RootElement.GetProperty("type").GetString());
    }

    private static async Task<HttpResponseMessage> SendAsync(
        TestGateway gateway, HttpMethod method, string path, string? host = null, string? origin = null, string? fetchSite = null,
        string? body = null, string? contentType = null, string? token = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        if (origin is not null)
        {
            request.Headers.TryAddWithoutValidation("Origin", origin);
        }

        if (fetchSite is not null)
        {
            request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", fetchSite);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        return await gateway.Admin!.SendAsync(request);
    }
}
