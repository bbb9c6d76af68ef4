using System.Net;
using System.Net.WebSockets;
using System.Text;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Proxy;

/// <summary>RFC 9110/9112 as a strict edge proxy: refuse ambiguous framing, re-frame cleanly, strip hop-by-hop headers, never tunnel blindly.</summary>
public class ProtocolHygieneTests
{
    private static string Config(TestBackend backend) => $$"""
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          - { name: ws, match: { path: "/ws" }, service: s, webSockets: true }
          - { name: all, match: { path: "/{**rest}" }, service: s }
        """;

    public static TheoryData<string, string> AmbiguousRequests => new()
    {
        { "CL and TE", "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" },
        { "CL.TE smuggling", "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG" },
        { "two different Content-Length", "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!" },
        { "Content-Length list", "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\nhello!" },
        { "TE not ending in chunked", "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" },
        { "obfuscated TE", "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" },
        { "bad chunk size", "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" },
        { "space before colon", "GET /x HTTP/1.1\r\nHost: h\r\nContent-Length : 0\r\n\r\n" },
        { "obs-fold", "GET /x HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  folded\r\n\r\n" },
        { "NUL in header", "GET /x HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n" },
        { "no Host", "GET /x HTTP/1.1\r\n\r\n" },
        { "two Host", "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" },
        // The proxy battery saw these accepted and normalised by Kestrel; a strict edge refuses them (400 and close).
        { "TE other than trailers", "GET /x HTTP/1.1\r\nHost: h\r\nTE: gzip, trailers\r\n\r\n" },
        { "Trailer declared on a request", "GET /x HTTP/1.1\r\nHost: h\r\nTrailer: X-Checksum\r\n\r\n" },
        { "control character in a value", "GET /x HTTP/1.1\r\nHost: h\r\nX-A: a\u0001b\r\n\r\n" },
        { "DEL in a value", "GET /x HTTP/1.1\r\nHost: h\r\nX-A: a\u007fb\r\n\r\n" },
        { "over-long method", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ /x HTTP/1.1\r\nHost: h\r\n\r\n" },
    };

    [Theory]
    [MemberData(nameof(AmbiguousRequests))]
    public async Task AmbiguousFraming_Refused4xx_ConnectionClosed_NothingForwarded(string name, string request)
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        var exchange = await RawHttp.SendAsync(gateway.Url, request);

        Assert.True(exchange.Response.Length > 12, $"{name}: no response");
        Assert.InRange(exchange.FirstStatus, 400, 499);
        Assert.True(exchange.ClosedByServer, $"{name}: connection left open");
        Assert.Equal(1, exchange.ResponseCount);

        if (name.StartsWith("CL", StringComparison.Ordinal))
        {
            Assert.Contains("https://gatehouse.dev/problems/ambiguous-framing", exchange.Response);
        }

        // A broken chunk is only found while streaming, after the backend saw the request start; it must never see it complete.
        Assert.Equal(0, backend.CompletedRequests);
    }

    [Fact]
    public async Task Pipelined_EachRequestReframedOnce()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        var exchange = await RawHttp.SendAsync(gateway.Url,
            "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" +
            "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.Equal(2, exchange.ResponseCount);
        Assert.Equal(2, backend.Requests);
        Assert.Contains("POST /a", exchange.Response);
        Assert.Contains("X-Body-Bytes: 5", exchange.Response);
        Assert.Contains("GET /b", exchange.Response);
    }

    [Fact]
    public async Task ConnectionNominatedHeaders_RemovedBothWays()
    {
        await using var backend = await TestBackend.StartAsync(app => app.Map("/{**p}", context =>
        {
            context.Response.Headers["X-Saw-Secret"] = context.Request.Headers["X-Secret"].Count > 0 ? "yes" : "no";
            context.Response.Headers["X-Saw-Keep"] = context.Request.Headers["X-Keep"];
            context.Response.Headers["X-Saw-Xff"] = context.Request.Headers["X-Forwarded-For"];
            context.Response.Headers.Connection = "X-Hop";
            context.Response.Headers["X-Hop"] = "internal";
            return Task.CompletedTask;
        }));
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        var exchange = await RawHttp.SendAsync(gateway.Url,
            "GET /x HTTP/1.1\r\nHost: h\r\nConnection: X-Secret, X-Forwarded-For\r\nX-Secret: s3cr3t\r\nX-Keep: k\r\nKeep-Alive: timeout=5\r\n\r\n");

        Assert.True(200 == exchange.FirstStatus, exchange.Response);
        Assert.True(exchange.Response.Contains("X-Saw-Secret: no", StringComparison.Ordinal), exchange.Response);
        Assert.Contains("X-Saw-Keep: k", exchange.Response);

        // Naming a header the gateway sets must not strip it (hop-by-hop header abuse).
        Assert.Contains("X-Saw-Xff: 127.0.0.1", exchange.Response);
        Assert.DoesNotContain("X-Hop", exchange.Response);
    }

    [Fact]
    public async Task H2cUpgrade_NotHonoured_ForwardedAsPlainRequest()
    {
        await using var backend = await TestBackend.StartAsync(app => app.Map("/{**p}", context =>
        {
            context.Response.Headers["X-Saw-Upgrade"] = context.Request.Headers.Upgrade.Count > 0 ? "yes" : "no";
            context.Response.Headers["X-Saw-Settings"] = context.Request.Headers["HTTP2-Settings"].Count > 0 ? "yes" : "no";
            return context.Response.WriteAsync("plain");
        }));
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        var exchange = await RawHttp.SendAsync(gateway.Url,
            "GET /x HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");

        Assert.Equal(200, exchange.FirstStatus);
        Assert.Contains("X-Saw-Upgrade: no", exchange.Response);
        Assert.Contains("X-Saw-Settings: no", exchange.Response);
        Assert.Contains("plain", exchange.Response);
    }

    [Fact]
    public async Task WebSocketUpgrade_OnNonWebSocketRoute_NotTunnelled()
    {
        await using var backend = await TestBackend.StartAsync(app =>
        {
            app.UseWebSockets();
            app.Map("/{**p}", async context =>
            {
                if (context.WebSockets.IsWebSocketRequest)
                {
                    using var socket = await context.WebSockets.AcceptWebSocketAsync();
                    return;
                }

                await context.Response.WriteAsync("no upgrade");
            });
        });
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        var exchange = await RawHttp.SendAsync(gateway.Url,
            "GET /other HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");

        Assert.Equal(200, exchange.FirstStatus);
        Assert.Contains("no upgrade", exchange.Response);
    }

    [Fact]
    public async Task WebSocket_OnWebSocketRoute_EchoesThroughGateway()
    {
        await using var backend = await TestBackend.StartAsync(app =>
        {
            app.UseWebSockets();
            app.Map("/ws", async context =>
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                var buffer = new byte[1024];
                var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                await socket.SendAsync(buffer.AsMemory(0, result.Count), WebSocketMessageType.Text, true, context.RequestAborted);
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", context.RequestAborted);
            });
        });
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        using var client = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.Url.Port}/ws"), timeout.Token);
        await client.SendAsync(Encoding.UTF8.GetBytes("ping"), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[1024];
        var result = await client.ReceiveAsync(buffer, timeout.Token);

        Assert.Equal("ping", Encoding.UTF8.GetString(buffer, 0, result.Count));
    }

    [Fact]
    public async Task Http10Request_Forwarded()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        var exchange = await RawHttp.SendAsync(gateway.Url, "GET /old HTTP/1.0\r\nHost: h\r\n\r\n");

        Assert.Contains(" 200 ", exchange.Response);
        Assert.Contains("GET /old", exchange.Response);
    }
}
