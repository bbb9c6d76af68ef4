using System.Net;
using Gatehouse.Tests.Bookstore;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.FunctionalTests.Policies.Transcoding;

/// <summary>
/// A real Grpc.AspNetCore bookstore on 127.0.0.1 port 0, HTTP/2 only: cleartext (Kestrel's h2c needs an Http2-only
/// endpoint), or over TLS with the given certificate.
/// </summary>
public sealed class GrpcBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GrpcBackend(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    /// <summary>What this backend saw of the last call (for checks on what the gateway sent).</summary>
    public BackendState State { get; private set; } = new();

    public sealed class BackendState
    {
        public Metadata? LastHeaders { get; set; }

        public DateTime LastDeadline { get; set; }

        /// <summary>The gRPC path of the last call, <c>/bookstore.v1.Bookstore/Method</c>.</summary>
        public string? LastMethod { get; set; }

        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public void Called() => Interlocked.Increment(ref _calls);
    }

    public static async Task<GrpcBackend> StartAsync(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o =>
        {
            o.Protocols = HttpProtocols.Http2;
            if (certificate is not null)
            {
                o.UseHttps(certificate);
            }
        }));
        // No size limits of its own: the gateway's limits are what the tests look at.
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = null;
            o.MaxSendMessageSize = null;
        });
        builder.Services.AddGrpcReflection();
        var state = new BackendState();
        builder.Services.AddSingleton(state);
        var app = builder.Build();
        app.MapGrpcService<BookstoreService>();
        app.MapGrpcReflectionService();
        await app.StartAsync();
        return new GrpcBackend(app) { State = state, Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() };
    }

    public static byte[] DescriptorSet() => Gatehouse.Tests.Bookstore.BookstoreDescriptors.Set();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class BookstoreService(BackendState state) : Gatehouse.Tests.Bookstore.Bookstore.BookstoreBase
    {
        private T Seen<T>(T value, ServerCallContext context)
        {
            state.LastHeaders = context.RequestHeaders;
            state.LastDeadline = context.Deadline;
            state.LastMethod = context.Method;
            state.Called();
            return value;
        }

        public override Task<Shelf> GetShelf(GetShelfRequest request, ServerCallContext context)
        {
            Seen(request, context);
            return request.Shelf == 404
                ? throw new RpcException(new Status(StatusCode.NotFound, $"shelf {request.Shelf} does not exist"))
                : Task.FromResult(new Shelf { Id = request.Shelf, Theme = "theme-" + request.Shelf });
        }

        public override Task<ListShelvesResponse> ListShelves(Empty request, ServerCallContext context) =>
            Task.FromResult(new ListShelvesResponse { Shelves = { new Shelf { Id = 1, Theme = "fiction" }, new Shelf { Id = 2, Theme = "history" } } });

        public override Task<Shelf> CreateShelf(CreateShelfRequest request, ServerCallContext context) =>
            Task.FromResult(Seen(request, context) is null ? new Shelf() : new Shelf { Id = request.Shelf.Id == 0 ? 99 : request.Shelf.Id, Theme = request.Shelf.Theme });

        public override Task<Book> GetBook(GetBookRequest request, ServerCallContext context) =>
            Task.FromResult(new Book { Name = Seen(request, context).Name, Title = "Title of " + request.Name, Genre = Genre.History });

        public override Task<Book> UpdateBook(UpdateBookRequest request, ServerCallContext context) =>
            Task.FromResult(new Book(request.Book) { Author = string.Join(",", request.UpdateMask?.Paths ?? []) });

        public override Task<Empty> DeleteBook(GetBookRequest request, ServerCallContext context) => Task.FromResult(new Empty());

        public override Task<Shelf> ArchiveShelf(GetShelfRequest request, ServerCallContext context) =>
            Task.FromResult(new Shelf { Id = request.Shelf, Archived = true });

        public override Task<Shelf> GetShelfTheme(GetShelfRequest request, ServerCallContext context) =>
            Task.FromResult(new Shelf { Id = request.Shelf, Theme = "theme-" + request.Shelf });

        public override Task<Everything> Echo(Everything request, ServerCallContext context)
        {
            return Task.FromResult(Seen(request, context));
        }

        public override Task<Empty> Fail(FailRequest request, ServerCallContext context) =>
            Seen(request, context) is null ? Task.FromResult(new Empty()) : throw new RpcException(new Status((StatusCode)request.Code, request.Message), new Metadata { { "x-fail", "yes" } });

        public override async Task ListBooks(ListBooksRequest request, IServerStreamWriter<Book> responseStream, ServerCallContext context)
        {
            for (var i = 1; i <= request.PageSize; i++)
            {
                await responseStream.WriteAsync(new Book { Name = $"shelves/{request.Shelf}/books/{i}", Title = "Book " + i });
            }

            if (request.FailAfterCode != 0)
            {
                throw new RpcException(new Status((StatusCode)request.FailAfterCode, "stream failed"));
            }

            context.ResponseTrailers.Add("x-books", request.PageSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        public override async Task<ListBooksResponse> AddBooks(IAsyncStreamReader<Book> requestStream, ServerCallContext context)
        {
            var response = new ListBooksResponse();
            await foreach (var book in requestStream.ReadAllAsync(context.CancellationToken))
            {
                response.Books.Add(book);
            }

            return response;
        }

        public override async Task Chat(IAsyncStreamReader<Book> requestStream, IServerStreamWriter<Book> responseStream, ServerCallContext context)
        {
            await foreach (var book in requestStream.ReadAllAsync(context.CancellationToken))
            {
                await responseStream.WriteAsync(new Book(book) { Title = book.Title.ToUpperInvariant() });
            }
        }
    }
}
