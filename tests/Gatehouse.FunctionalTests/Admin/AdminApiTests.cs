using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Admin;

/// <summary>The admin API end to end: a real gateway on port 0, its admin listener on 127.0.0.1:0, a real backend.</summary>
public sealed class AdminApiTests : IAsyncLifetime
{
    private TestBackend _backend = null!;
    private TestGateway _gateway = null!;

    private HttpClient Admin => _gateway.Admin!;

    public async Task InitializeAsync()
    {
        _backend = await TestBackend.StartEchoAsync();
        _gateway = await TestGateway.StartAsync($$"""
            auth: { providers: [apiKey] }
            consumers:
              alice: { apiKeys: ["sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"] }
            rateLimits:
              per-ip: { limit: 1000, window: 1m }
            services:
              users:
                targets: ["{{_backend.Url}}"]
                healthCheck: { passive: true }
                circuitBreaker: { failureRatio: 0.5, minimumRequests: 10 }
                retry: { attempts: 2 }
              orders: { targets: ["{{_backend.Url}}"] }
            routes:
              - name: users
                match: { path: "/api/users/{**rest}", methods: [GET], hosts: ["api.example.com"] }
                service: users
                auth: anonymous
                rateLimit: [per-ip]
                timeout: { response: 5s }
              - name: orders
                match: { path: "/api/orders/{**rest}", headers: { X-Tenant: acme } }
                service: orders
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task Healthz_Answers_Ok()
    {
        var response = await Admin.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readyz_AfterStart_IsReady()
    {
        var response = await Admin.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ready\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Routes_ListMatchServiceAndPolicies_InFileOrder()
    {
        using var routes = await GetJsonAsync("/routes");

        var all = routes.RootElement.EnumerateArray().ToList();
        Assert.Equal(["users", "orders"], all.Select(r => r.GetProperty("name").GetString()));
        var users = all[0];
        Assert.Equal("/api/users/{**rest}", users.GetProperty("match").GetProperty("path").GetString());
        Assert.Equal(["GET"], users.GetProperty("match").GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(["api.example.com"], users.GetProperty("match").GetProperty("hosts").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal("users", users.GetProperty("service").GetString());
        var policies = users.GetProperty("policies");
        Assert.Equal("route", policies.GetProperty("authFrom").GetString());
        Assert.True(policies.GetProperty("auth").GetProperty("anonymous").GetBoolean());
        Assert.Equal(["per-ip"], policies.GetProperty("rateLimit").EnumerateArray().Select(m => m.GetString()));
        var resilience = policies.GetProperty("resilience");
        Assert.Equal(0.5, resilience.GetProperty("circuitBreaker").GetProperty("failureRatio").GetDouble());
        Assert.Equal(2, resilience.GetProperty("retry").GetProperty("attempts").GetInt32());
        Assert.Equal("5s", resilience.GetProperty("routeTimeout").GetProperty("response").GetString());

        var orders = all[1];
        Assert.Equal("X-Tenant", orders.GetProperty("match").GetProperty("headers")[0].GetProperty("name").GetString());
        Assert.Equal("default", orders.GetProperty("policies").GetProperty("authFrom").GetString());
        Assert.Equal(["apiKey"], orders.GetProperty("policies").GetProperty("auth").GetProperty("providers").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public async Task Services_ShowTargetsHealthAndBreaker()
    {
        // Passive health has an opinion only once traffic went through.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "http://api.example.com/api/users/1")).StatusCode);

        using var services = await GetJsonAsync("/services");

        var all = services.RootElement.EnumerateArray().ToList();
        Assert.Equal(["users", "orders"], all.Select(s => s.GetProperty("name").GetString()));
        var users = all[0];
        Assert.Equal("closed", users.GetProperty("circuitBreaker").GetString());
        Assert.Equal(JsonValueKind.Null, all[1].GetProperty("circuitBreaker").ValueKind);
        var target = Assert.Single(users.GetProperty("targets").EnumerateArray());
        Assert.Equal(_backend.Url, target.GetProperty("address").GetString());
        Assert.Contains(target.GetProperty("passive").GetString(), new[] { "healthy", "unknown" });
        Assert.Equal("unknown", target.GetProperty("active").GetString());
        Assert.True(target.GetProperty("available").GetBoolean());
    }

    [Theory]
    [InlineData("/circuits")]
    [InlineData("/services/breakers")]
    public async Task Circuits_BothPaths_ShowBreakerState(string path)
    {
        using var breakers = await GetJsonAsync(path);

        var users = breakers.RootElement.GetProperty("users");
        Assert.Equal("closed", users.GetProperty("state").GetString());
        Assert.Equal(10, users.GetProperty("minimumRequests").GetInt32());
        Assert.False(breakers.RootElement.TryGetProperty("orders", out _));
    }

    [Fact]
    public async Task ConfigStatus_AfterStart_ShowsInitialLoad()
    {
        using var status = await GetJsonAsync("/config/status");

        Assert.Equal(_gateway.Host.Status.Hash, status.RootElement.GetProperty("hash").GetString());
        Assert.True(status.RootElement.GetProperty("lastAttemptSucceeded").GetBoolean());
        Assert.Equal("initial load", status.RootElement.GetProperty("reason").GetString());
        Assert.Equal(0, status.RootElement.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public async Task Reload_BadFile_422WithErrors_AndStatusRecordsIt()
    {
        await File.WriteAllTextAsync(_gateway.ConfigPath, TestGateway.WithTestListeners("services: { a: { targets: [\"http://127.0.0.1:1\"] } }\nroutes:\n  - { name: r, match: { path: /x }, service: nowhere }\n"));

        var response = await Admin.PostAsync("/reload", null);

        Assert.Equal((HttpStatusCode)422, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.False(body.RootElement.GetProperty("lastAttemptSucceeded").GetBoolean());
        var error = body.RootElement.GetProperty("errors")[0];
        Assert.Equal(_gateway.ConfigPath, error.GetProperty("file").GetString());
        Assert.True(error.GetProperty("line").GetInt32() > 0);
        using var status = await GetJsonAsync("/config/status");
        Assert.False(status.RootElement.GetProperty("lastAttemptSucceeded").GetBoolean());
    }

    [Fact]
    public async Task Explain_MatchingRequest_NamesRouteAndWhyOthersDoNot()
    {
        using var result = await GetJsonAsync("/explain?method=get&url=" + Uri.EscapeDataString("http://shop.example.com/api/orders/7") + "&header=" + Uri.EscapeDataString("X-Tenant: acme"));

        var root = result.RootElement;
        Assert.True(root.GetProperty("matched").GetBoolean());
        Assert.Equal("orders", root.GetProperty("route").GetString());
        Assert.Equal("orders", root.GetProperty("service").GetString());
        Assert.Equal(200, root.GetProperty("status").GetInt32());
        Assert.Equal("GET", root.GetProperty("request").GetProperty("method").GetString());
        var users = Assert.Single(root.GetProperty("notMatched").EnumerateArray());
        Assert.Equal("users", users.GetProperty("route").GetString());
        Assert.Contains("path", users.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_WrongMethod_405WithAllow()
    {
        using var result = await GetJsonAsync("/explain?method=DELETE&url=" + Uri.EscapeDataString("http://api.example.com/api/users/1"));

        Assert.False(result.RootElement.GetProperty("matched").GetBoolean());
        Assert.Equal(405, result.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(["GET"], result.RootElement.GetProperty("allow").EnumerateArray().Select(m => m.GetString()));
    }

    [Theory]
    [InlineData("/explain")]
    [InlineData("/explain?url=not-a-url")]
    [InlineData("/explain?url=http%3A%2F%2Fh%2Fx&header=NoColon")]
    public async Task Explain_BadParameters_400Problem(string path)
    {
        var response = await Admin.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Dashboard_ServesSelfContainedPage()
    {
        var response = await Admin.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<title>Gatehouse dashboard</title>", html, StringComparison.Ordinal);

        // Works offline: no script, style or image from another origin; the policy forbids any and pins the inline code.
        Assert.DoesNotMatch(@"(src|href)\s*=\s*[""']?(https?:)?//", html);
        Assert.DoesNotContain("@import", html, StringComparison.Ordinal);
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);
        Assert.Matches("script-src 'sha256-[A-Za-z0-9+/=]{44}'", policy);
        Assert.Matches("style-src 'sha256-[A-Za-z0-9+/=]{44}'", policy);
    }

    [Fact]
    public async Task AdminResponses_AreNotCached()
    {
        var response = await Admin.GetAsync("/config");

        Assert.True(response.Headers.CacheControl?.NoStore);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url)
    {
        var uri = new Uri(url);
        using var request = new HttpRequestMessage(method, new Uri(_gateway.Url, uri.PathAndQuery));
        request.Headers.Host = uri.Host;
        return await _gateway.Client.SendAsync(request);
    }

    private async Task<JsonDocument> GetJsonAsync(string path)
    {
        var response = await Admin.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }
}
