using System.Security.Cryptography;
using System.Text;
using Gatehouse.Tests.Bookstore;
using Gatehouse.FunctionalTests.Common;
using Grpc.Core;
using Grpc.Net.Client;

namespace Gatehouse.FunctionalTests.Policies.Transcoding;

/// <summary>gRPC clients through the gateway (h2c both sides) to a real Grpc.AspNetCore backend, with route policies applied.</summary>
public class GrpcPassThroughTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private static string Hash(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string Config(GrpcBackend backend, string routeExtra = "") => $$"""
        listen: ["h2c://127.0.0.1:0"]
        consumers:
          app: { apiKeys: ["{{Hash("key-app")}}"] }
        rateLimits:
          tiny: { limit: 2, window: 1m, key: consumer }
        services:
          bookstore:
            targets: ["{{backend.Url}}"]
            protocol: grpc
        routes:
          - name: bookstore-grpc
            match: { path: "/bookstore.v1.Bookstore/{**rest}" }
            service: bookstore
            {{routeExtra}}
        """;

    private static (GrpcChannel Channel, Gatehouse.Tests.Bookstore.Bookstore.BookstoreClient Client) Connect(TestGateway gateway)
    {
        var channel = GrpcChannel.ForAddress(gateway.Url, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { UseProxy = false } });
        return (channel, new Gatehouse.Tests.Bookstore.Bookstore.BookstoreClient(channel));
    }

    [Fact]
    public async Task Unary_PassesThrough_WithStatusAndTrailers()
    {
        await using var backend = await GrpcBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        var (channel, client) = Connect(gateway);
        using var _ = channel;

        var shelf = await client.GetShelfAsync(new GetShelfRequest { Shelf = 7 }, deadline: DateTime.UtcNow + Deadline);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.GetShelfAsync(new GetShelfRequest { Shelf = 404 }, deadline: DateTime.UtcNow + Deadline));
        var failure = await Assert.ThrowsAsync<RpcException>(async () => await client.FailAsync(new FailRequest { Code = (int)StatusCode.FailedPrecondition, Message = "not now: ünïcode" }, deadline: DateTime.UtcNow + Deadline));

        Assert.Equal("theme-7", shelf.Theme);
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("shelf 404 does not exist", error.Status.Detail);
        Assert.Equal(StatusCode.FailedPrecondition, failure.StatusCode);
        Assert.Equal("not now: ünïcode", failure.Status.Detail);
        Assert.Equal("yes", failure.Trailers.GetValue("x-fail"));
    }

    [Fact]
    public async Task ServerStreaming_AllMessagesAndTrailers()
    {
        await using var backend = await GrpcBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        var (channel, client) = Connect(gateway);
        using var _ = channel;

        using var call = client.ListBooks(new ListBooksRequest { Shelf = 3, PageSize = 50 }, deadline: DateTime.UtcNow + Deadline);
        var names = new List<string>();
        await foreach (var book in call.ResponseStream.ReadAllAsync())
        {
            names.Add(book.Name);
        }

        Assert.Equal(50, names.Count);
        Assert.Equal("shelves/3/books/50", names[^1]);
        Assert.Equal("50", call.GetTrailers().GetValue("x-books"));
    }

    [Fact]
    public async Task ServerStreaming_ErrorAfterMessages_StatusReachesClient()
    {
        await using var backend = await GrpcBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        var (channel, client) = Connect(gateway);
        using var _ = channel;

        using var call = client.ListBooks(new ListBooksRequest { Shelf = 3, PageSize = 2, FailAfterCode = (int)StatusCode.DataLoss }, deadline: DateTime.UtcNow + Deadline);
        var received = 0;
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var book in call.ResponseStream.ReadAllAsync())
            {
                received++;
            }
        });

        Assert.Equal(2, received);
        Assert.Equal(StatusCode.DataLoss, error.StatusCode);
    }

    [Fact]
    public async Task ClientStreaming_AllMessagesReachBackend()
    {
        await using var backend = await GrpcBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        var (channel, client) = Connect(gateway);
        using var _ = channel;

        using var call = client.AddBooks(deadline: DateTime.UtcNow + Deadline);
        for (var i = 0; i < 20; i++)
        {
            await call.RequestStream.WriteAsync(new Book { Name = "b" + i });
        }

        await call.RequestStream.CompleteAsync();
        var response = await call;

        Assert.Equal(20, response.Books.Count);
        Assert.Equal("b19", response.Books[^1].Name);
    }

    [Fact]
    public async Task BidirectionalStreaming_EachMessageAnsweredInTurn()
    {
        await using var backend = await GrpcBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        var (channel, client) = Connect(gateway);
        using var _ = channel;

        using var call = client.Chat(deadline: DateTime.UtcNow + Deadline);
        var answers = new List<string>();
        foreach (var word in new[] { "one", "two", "three" })
        {
            // Each answer arrives before the next message is sent: the gateway streams both ways, it does not buffer.
            await call.RequestStream.WriteAsync(new Book { Title = word });
            Assert.True(await call.ResponseStream.MoveNext());
            answers.Add(call.ResponseStream.Current.Title);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());

        Assert.Equal(["ONE", "TWO", "THREE"], answers);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task ApiKeyRoute_WithoutKey_Unauthenticated_GrpcStyle_BackendNotCalled()
    {
        await using var backend = await GrpcBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, "auth: { providers: [apiKey] }"));
        var (channel, client) = Connect(gateway);
        using var _ = channel;

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.GetShelfAsync(new GetShelfRequest { Shelf = 1 }, deadline: DateTime.UtcNow + Deadline));
        var shelf = await client.GetShelfAsync(new GetShelfRequest { Shelf = 1 }, new Metadata { { "x-api-key", "key-app" } }, DateTime.UtcNow + Deadline);

        // The gateway answers gRPC callers in gRPC (grpc-status 16 in a trailers-only reply), not with problem+json.
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.DoesNotContain("Bad gRPC response", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, shelf.Id);
        Assert.Null(backend.State.LastHeaders?.GetValue("x-api-key"));
    }

    [Fact]
    public async Task RateLimitedRoute_OverLimit_ResourceExhausted()
    {
        await using var backend = await GrpcBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, "auth: { providers: [apiKey] }\n    rateLimit: [tiny]"));
        var (channel, client) = Connect(gateway);
        using var _ = channel;
        var key = new Metadata { { "x-api-key", "key-app" } };

        await client.GetShelfAsync(new GetShelfRequest { Shelf = 1 }, key, DateTime.UtcNow + Deadline);
        await client.GetShelfAsync(new GetShelfRequest { Shelf = 2 }, key, DateTime.UtcNow + Deadline);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.GetShelfAsync(new GetShelfRequest { Shelf = 3 }, key, DateTime.UtcNow + Deadline));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
    }
}
