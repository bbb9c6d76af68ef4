// Usage: GrpcBackend PORT DESCRIPTORS_FILE
// Serves bookstore.v1.Bookstore/GetShelf over cleartext HTTP/2 on 127.0.0.1:PORT and writes the service's
// FileDescriptorSet to DESCRIPTORS_FILE for the gateway's transcoding route.
using System.Net;
using Gatehouse.Tests.Bookstore;
using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;

var port = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
await File.WriteAllBytesAsync(args[1], BookstoreDescriptors.Set());
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http2));
builder.Services.AddGrpc();
var app = builder.Build();
app.MapGrpcService<BenchBookstore>();
await app.RunAsync();

internal sealed class BenchBookstore : Bookstore.BookstoreBase
{
    private static readonly Task<Shelf>[] Shelves = Enumerable.Range(0, 100).Select(i => Task.FromResult(new Shelf { Id = i, Theme = "theme-" + i })).ToArray();

    public override Task<Shelf> GetShelf(GetShelfRequest request, ServerCallContext context) =>
        (ulong)request.Shelf < (ulong)Shelves.Length ? Shelves[request.Shelf] : Task.FromResult(new Shelf { Id = request.Shelf });
}
