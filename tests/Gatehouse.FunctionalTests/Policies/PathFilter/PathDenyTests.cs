using System.Net;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.PathFilter;

/// <summary>
/// A deny list must hold against every spelling of the path a backend might decode into the denied one. Sent as
/// raw bytes, since HTTP client libraries normalise some of these themselves.
/// </summary>
public class PathDenyTests
{
    private static string Config(TestBackend backend) => $$"""
        deny: { paths: ["/internal/**"] }
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          - { name: admin, match: { path: "/admin/{**rest}" }, service: s, deny: { paths: ["/admin/secrets/**"] } }
          - { name: api, match: { path: "/api/{**rest}" }, service: s, rewrite: { stripPrefix: /api } }
          - { name: all, match: { path: "/{**rest}" }, service: s }
        """;

    [Theory]
    [InlineData("/internal/x")]
    [InlineData("/INTERNAL/x")]
    [InlineData("/internal./x")]
    [InlineData("/public/../internal/x")]
    [InlineData("/public/%2e%2e/internal/x")]
    [InlineData("/public/%2E%2E/internal/x")]
    [InlineData("/public/%2e%2E/internal/x")]
    [InlineData("/public/./../internal/x")]
    [InlineData("//internal/x")]
    [InlineData("/public%2F..%2Finternal/x")]
    [InlineData("/public%2f..%2finternal/x")]
    [InlineData("/public%5C..%5Cinternal/x")]
    [InlineData("/public\\..\\internal/x")]
    [InlineData("/internal%2Fx")]
    [InlineData("/%69nternal/x")]
    [InlineData("/admin/secrets/key")]
    [InlineData("/admin//secrets/key")]
    [InlineData("/admin/x/../secrets/key")]
    [InlineData("/internal;x=1/secret")]
    [InlineData("/internal%3B/secret")]
    [InlineData("/internal%20/x")]
    [InlineData("/api/internal/x")]       // rewritten to /internal/x: checked again on the forwarded path
    [InlineData("/api/..%2Finternal/x")]
    public async Task DeniedPath_EverySpelling_Refused403_NeverForwarded(string target)
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        var exchange = await RawHttp.SendAsync(gateway.Url, $"GET {target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");

        Assert.True(exchange.Response.Length > 12, $"{target}: no response");
        Assert.Equal(403, exchange.FirstStatus);
        Assert.Contains("https://gatehouse.dev/problems/path-denied", exchange.Response);
        Assert.Equal(0, backend.Requests);
    }

    [Theory]
    [InlineData("GET http://h/public/..%2Finternal/x HTTP/1.1")]   // absolute form: Kestrel's own checks do not run
    [InlineData("GET /public/..;/internal/x HTTP/1.1")]            // Tomcat's '..;' traversal
    public async Task TraversalShapes_Refused400_NeverForwarded(string requestLine)
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        var exchange = await RawHttp.SendAsync(gateway.Url, $"{requestLine}\r\nHost: h\r\nConnection: close\r\n\r\n");

        Assert.Equal(400, exchange.FirstStatus);
        Assert.Equal(0, backend.Requests);
    }

    [Theory]
    [InlineData("/public//a", "GET /public/a")]
    [InlineData("/public%2Fa", "GET /public/a")]
    [InlineData("/x/../public/a", "GET /public/a")]
    [InlineData("/admin/open", "GET /admin/open")]
    [InlineData("/api/public/a", "GET /public/a")]
    public async Task AllowedPath_ForwardedInNormalForm(string target, string backendSaw)
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        var exchange = await RawHttp.SendAsync(gateway.Url, $"GET {target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");

        Assert.Equal(200, exchange.FirstStatus);
        Assert.Contains(backendSaw, exchange.Response);
    }

    [Fact]
    public async Task EscapedSlashes_Reject_400()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            pathNormalization: { escapedSlashes: reject }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        using var response = await gateway.Client.GetAsync("/a%2Fb");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, backend.Requests);
    }
}
