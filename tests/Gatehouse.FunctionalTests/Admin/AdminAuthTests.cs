using System.Net;
using System.Net.Http.Headers;
using Gatehouse.Configuration;
using Gatehouse.FunctionalTests.Common;
using Gatehouse.Hosting;

namespace Gatehouse.FunctionalTests.Admin;

/// <summary>
/// admin.token: required to start off loopback, and then enforced on every admin endpoint but the probes and the
/// dashboard page. Enforcement is tested on a loopback listener with a token set (same code path; the tests never
/// bind a non-loopback address).
/// </summary>
public sealed class AdminAuthTests
{
    private const string Token = "test-admin-token-0123456789abcdef";
    private const string Services = """
        services: { echo: { targets: ["http://127.0.0.1:1"] } }
        routes: [{ name: echo, match: { path: "/{**rest}" }, service: echo }]
        """;

    [Theory]
    [InlineData("http://0.0.0.0:9901")]
    [InlineData("http://192.168.10.5:9901")]
    [InlineData("http://[::]:9901")]
    public async Task Start_NonLoopbackAdminWithoutToken_Refused(string listen)
    {
        var yaml = $"listen: [\"http://127.0.0.1:0\"]\nadmin: {{ listen: \"{listen}\" }}\n{Services}";

        var refused = await Assert.ThrowsAsync<ConfigException>(() => GatewayHost.CreateAsync(new GatewayHostOptions { ConfigText = yaml, ConfigName = "gatehouse.yaml" }));

        var error = Assert.Single(refused.Errors);
        Assert.Equal(2, error.Line);
        Assert.Contains("admin.token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NonLoopbackAdminWithToken_Accepted()
    {
        var options = ConfigLoader.Load($"admin: {{ listen: \"http://0.0.0.0:9901\", token: \"{Token}\" }}\n{Services}", "gatehouse.yaml", _ => null);

        Assert.Equal(Token, options.Admin.Token);
    }

    [Fact]
    public void Load_ShortToken_Refused()
    {
        var refused = Assert.Throws<ConfigException>(() => ConfigLoader.Load($"admin: {{ listen: \"http://127.0.0.1:9901\", token: short }}\n{Services}", "gatehouse.yaml", _ => null));

        Assert.Contains("at least 16 characters", Assert.Single(refused.Errors).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/config")]
    [InlineData("GET", "/config/status")]
    [InlineData("GET", "/routes")]
    [InlineData("GET", "/services")]
    [InlineData("GET", "/circuits")]
    [InlineData("GET", "/services/breakers")]
    [InlineData("GET", "/explain?url=http%3A%2F%2Fh%2Fx")]
    [InlineData("GET", "/openapi.json")]
    [InlineData("POST", "/reload")]
    public async Task Endpoint_WithToken_401WithoutHeader_401WrongToken_200WithToken(string method, string path)
    {
        await using var gateway = await TestGateway.StartAsync($"admin: {{ listen: \"http://127.0.0.1:0\", token: \"${{ADMIN_TOKEN}}\" }}\n{Services}", variables: new Dictionary<string, string> { ["ADMIN_TOKEN"] = Token });

        var missing = await SendAsync(gateway, method, path, token: null);
        var wrong = await SendAsync(gateway, method, path, token: Token + "x");
        var right = await SendAsync(gateway, method, path, token: Token);

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Bearer realm=\"gatehouse-admin\"", missing.Headers.WwwAuthenticate.ToString());
        Assert.Contains("unauthenticated", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("error=\"invalid_token\"", wrong.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/")]
    public async Task ProbesAndDashboardPage_WithToken_NeedNoHeader(string path)
    {
        await using var gateway = await TestGateway.StartAsync($"admin: {{ listen: \"http://127.0.0.1:0\", token: \"{Token}\" }}\n{Services}");

        var response = await SendAsync(gateway, "GET", path, token: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Token_ChangedByReload_OldRefusedNewAccepted()
    {
        await using var gateway = await TestGateway.StartAsync($"admin: {{ listen: \"http://127.0.0.1:0\", token: \"{Token}\" }}\n{Services}");
        const string rotated = "rotated-admin-token-fedcba9876543210";

        await gateway.RewriteConfigAsync($"admin: {{ listen: \"http://127.0.0.1:0\", token: \"{rotated}\" }}\n{Services}");

        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(gateway, "GET", "/routes", Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(gateway, "GET", "/routes", rotated)).StatusCode);
    }

    [Fact]
    public async Task NoToken_OnLoopback_OpenAsBefore()
    {
        await using var gateway = await TestGateway.StartAsync(Services);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(gateway, "GET", "/routes", token: null)).StatusCode);
    }

    private static async Task<HttpResponseMessage> SendAsync(TestGateway gateway, string method, string path, string? token)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await gateway.Admin!.SendAsync(request);
    }
}
