using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Proxy;

/// <summary>WebSocket pass-through with a real client: the route's auth and rate limit apply to the upgrade request.</summary>
public class WebSocketPolicyTests
{
    private static string Hash(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static Task<TestBackend> StartEchoAsync() => TestBackend.StartAsync(app =>
    {
        app.UseWebSockets();
        app.Map("/ws", async context =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[1024];
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", context.RequestAborted);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, result.Count), WebSocketMessageType.Text, true, context.RequestAborted);
            }
        });
    });

    private static string Config(TestBackend backend) => $$"""
        consumers:
          app: { apiKeys: ["{{Hash("key-app")}}"] }
        rateLimits:
          two: { limit: 2, window: 1m, key: consumer }
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          - name: ws
            match: { path: "/ws" }
            service: s
            webSockets: true
            auth: { providers: [apiKey] }
            rateLimit: [two]
        """;

    private static async Task<string> EchoAsync(ClientWebSocket client, string text, CancellationToken cancellation)
    {
        await client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cancellation);
        var buffer = new byte[1024];
        var result = await client.ReceiveAsync(buffer, cancellation);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    [Fact]
    public async Task Upgrade_WithoutKey_401_BackendNotCalled()
    {
        await using var backend = await StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        using var client = new ClientWebSocket();
        client.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        await Assert.ThrowsAsync<WebSocketException>(() => client.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.Url.Port}/ws"), timeout.Token));

        Assert.Equal(HttpStatusCode.Unauthorized, client.HttpStatusCode);
        Assert.Equal(0, backend.Requests);
    }

    [Fact]
    public async Task Upgrade_WithKey_Echoes_ThenRateLimited429()
    {
        await using var backend = await StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var uri = new Uri($"ws://127.0.0.1:{gateway.Url.Port}/ws");
        var answers = new List<string>();

        for (var i = 0; i < 2; i++)
        {
            using var client = new ClientWebSocket();
            client.Options.SetRequestHeader("X-Api-Key", "key-app");
            await client.ConnectAsync(uri, timeout.Token);
            answers.Add(await EchoAsync(client, "ping" + i, timeout.Token));
            answers.Add(await EchoAsync(client, "again" + i, timeout.Token));
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        }

        using var third = new ClientWebSocket();
        third.Options.SetRequestHeader("X-Api-Key", "key-app");
        third.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => third.ConnectAsync(uri, timeout.Token));

        // Messages on an open socket are not requests: only the two upgrades counted against the limit of 2.
        Assert.Equal(["ping0", "again0", "ping1", "again1"], answers);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.HttpStatusCode);
        Assert.Equal(2, backend.Requests);
    }
}
