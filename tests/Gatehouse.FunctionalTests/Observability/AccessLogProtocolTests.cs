using System.Net;
using System.Net.WebSockets;
using System.Text;
using Gatehouse.FunctionalTests.Common;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gatehouse.FunctionalTests.Observability;

/// <summary>With the access log on, the response body is counted through a wrapper: every protocol must still work.</summary>
public class AccessLogProtocolTests
{
    private static string TempLog() => Path.Combine(Directory.CreateTempSubdirectory("gatehouse-accesslog-proto-").FullName, "access.log");

    [Fact]
    public async Task ChunkedStream_WebSocket_Http2WithTrailers_AllForwarded_BytesCounted()
    {
        var log = TempLog();
        await using var http1 = await TestBackend.StartAsync(app =>
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
            app.Map("/stream", async context =>
            {
                // No Content-Length: chunked, in three flushed pieces of 1000 bytes.
                for (var i = 0; i < 3; i++)
                {
                    await context.Response.Body.WriteAsync(new byte[1000]);
                    await context.Response.Body.FlushAsync();
                }
            });
        });
        await using var http2 = await TestBackend.StartAsync(app => app.Map("/grpcish", async context =>
        {
            context.Response.AppendTrailer("grpc-status", "0");
            await context.Response.WriteAsync("hello over h2");
        }), HttpProtocols.Http2);
        await using var gateway = await TestGateway.StartAsync($$"""
            listen: ["h2c://127.0.0.1:0"]
            observability: { accessLog: { output: "{{log}}" } }
            services:
              one: { targets: ["{{http1.Url}}"] }
              two: { targets: ["{{http2.Url}}"], httpVersion: "2" }
            routes:
              - { name: h2, match: { path: "/grpcish" }, service: two }
              - { name: rest, match: { path: "/{**rest}" }, service: one, webSockets: true }
            """);

        using (var client = TestGateway.NewClient(gateway.Url, HttpVersion.Version20))
        {
            using var stream = await client.GetAsync("/stream");
            Assert.Equal(3000, (await stream.Content.ReadAsByteArrayAsync()).Length);

            using var grpc = await client.GetAsync("/grpcish");
            Assert.Equal("hello over h2", await grpc.Content.ReadAsStringAsync());
            Assert.Equal("0", grpc.TrailingHeaders.GetValues("grpc-status").Single());
        }

        // WebSockets over HTTP/2 (extended CONNECT) through an h2c listener.
        using (var socketClient = new ClientWebSocket())
        using (var handler = new SocketsHttpHandler())
        using (var invoker = new HttpMessageInvoker(handler))
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            socketClient.Options.HttpVersion = HttpVersion.Version20;
            socketClient.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
            await socketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.Url.Port}/ws"), invoker, timeout.Token);
            await socketClient.SendAsync(Encoding.UTF8.GetBytes("ping"), WebSocketMessageType.Text, true, timeout.Token);
            var buffer = new byte[64];
            var result = await socketClient.ReceiveAsync(buffer, timeout.Token);
            Assert.Equal("ping", Encoding.UTF8.GetString(buffer, 0, result.Count));
        }

        var lines = await AccessLogTests.WaitForLinesAsync(log, 3);
        var byPath = lines.ToDictionary(l => l.GetProperty("url").GetProperty("path").GetString()!);
        Assert.Equal(3000, byPath["/stream"].GetProperty("http").GetProperty("response").GetProperty("body").GetProperty("bytes").GetInt64());
        Assert.Equal(13, byPath["/grpcish"].GetProperty("http").GetProperty("response").GetProperty("body").GetProperty("bytes").GetInt64());
        Assert.Equal(200, byPath["/ws"].GetProperty("http").GetProperty("response").GetProperty("status_code").GetInt32());
    }
}
