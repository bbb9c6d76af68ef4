using System.Net;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.IpFilter;

/// <summary>The tests connect from 127.0.0.1; forwarded addresses stand in for other clients.</summary>
public class IpFilterTests
{
    private static async Task AssertDeniedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("https://gatehouse.dev/problems/ip-denied", body.RootElement.GetProperty("type").GetString());
    }

    private static async Task<HttpResponseMessage> GetAsync(TestGateway gateway, string path, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return await gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task RouteDenyList_RefusesClient_OtherRoutesServe()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: internal, match: { path: "/internal/{**rest}" }, service: s, ipFilter: { deny: ["127.0.0.0/8", "::1"] } }
              - { name: public, match: { path: "/{**rest}" }, service: s }
            """);

        using var denied = await GetAsync(gateway, "/internal/x");
        using var served = await GetAsync(gateway, "/public");

        await AssertDeniedAsync(denied);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(1, backend.Requests);
    }

    [Fact]
    public async Task ForwardedFor_IgnoredWithoutTrustedProxies()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            ipFilter: { allow: ["203.0.113.0/24"] }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        // A client cannot talk its way onto the allow list.
        using var spoofed = await GetAsync(gateway, "/x", "203.0.113.7");

        await AssertDeniedAsync(spoofed);
        Assert.Equal(0, backend.Requests);
    }

    [Fact]
    public async Task TrustedProxy_ClientFromForwardedFor_FeedsFilterAndBackend()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            trustedProxies: ["127.0.0.1/32", "10.0.0.0/8"]
            ipFilter: { allow: ["203.0.113.0/24"], deny: ["203.0.113.66"] }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        using var allowed = await GetAsync(gateway, "/x", "198.51.100.9, 203.0.113.7, 10.1.1.1");
        using var denied = await GetAsync(gateway, "/x", "203.0.113.66");
        using var direct = await GetAsync(gateway, "/x");

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("203.0.113.7", allowed.Headers.GetValues("X-Echo-X-Forwarded-For").Single());
        await AssertDeniedAsync(denied);
        await AssertDeniedAsync(direct); // the proxy itself (127.0.0.1) is not on the allow list
    }

    [Fact]
    public async Task TrustedProxy_JunkBeforeClient_ClientStillDenied()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            trustedProxies: ["127.0.0.1/32"]
            ipFilter: { deny: ["192.0.2.0/24"] }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        // The client at 192.0.2.5 sent 'X-Forwarded-For: x'; the trusted proxy appended its address.
        using var response = await GetAsync(gateway, "/x", "x, 192.0.2.5");

        await AssertDeniedAsync(response);
    }

    [Fact]
    public async Task TrustedProxy_ForwardedHeaderConfigured_XForwardedForIgnored()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            trustedProxies: ["127.0.0.1/32"]
            forwardedHeader: Forwarded
            ipFilter: { allow: ["203.0.113.0/24"] }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);
        using var viaForwarded = new HttpRequestMessage(HttpMethod.Get, "/x");
        viaForwarded.Headers.Add("Forwarded", "for=203.0.113.7;proto=https");

        using var allowed = await gateway.Client.SendAsync(viaForwarded);
        using var spoofed = await GetAsync(gateway, "/x", "203.0.113.7");

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        await AssertDeniedAsync(spoofed);
    }

    [Fact]
    public async Task GlobalFilter_AppliesToUnknownRoutesToo()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            ipFilter: { deny: ["127.0.0.1"] }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: known, match: { path: "/known" }, service: s }
            """);

        using var unknown = await GetAsync(gateway, "/probing-for-routes");

        await AssertDeniedAsync(unknown);
    }

    [Fact]
    public async Task Reload_FilterEdit_TakesEffect()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        var config = $$"""
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s, ipFilter: { deny: [DENY] } }
            """;
        await using var gateway = await TestGateway.StartAsync(config.Replace("DENY", "\"192.0.2.1\"", StringComparison.Ordinal));

        using var before = await GetAsync(gateway, "/x");
        await gateway.RewriteConfigAsync(config.Replace("DENY", "\"127.0.0.1\"", StringComparison.Ordinal));
        using var after = await GetAsync(gateway, "/x");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        await AssertDeniedAsync(after);
    }
}
