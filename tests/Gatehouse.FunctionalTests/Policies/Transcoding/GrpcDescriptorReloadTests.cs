using System.Net;
using System.Text;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Transcoding;

/// <summary>Where descriptors come from and when they are read: file reloads, reload signals, server reflection; and the unknown-field option.</summary>
public class GrpcDescriptorReloadTests
{
    private static byte[] SetWithGetShelfAt(string path)
    {
        var set = Gatehouse.Tests.Bookstore.BookstoreDescriptors.SetOf(Gatehouse.Tests.Bookstore.BookstoreReflection.Descriptor);
        var method = set.File.Single(f => f.Name.EndsWith("bookstore.proto", StringComparison.Ordinal)).Service[0].Method.Single(m => m.Name == "GetShelf");
        method.Options.SetExtension(Google.Api.AnnotationsExtensions.Http, new Google.Api.HttpRule { Get = path });
        return Google.Protobuf.MessageExtensions.ToByteArray(set);
    }

    private static string Config(GrpcBackend backend, string descriptors, string extra = "") => $$"""
        services:
          bookstore:
            targets: ["{{backend.Url}}"]
            protocol: grpc
            grpc: { descriptors: {{descriptors}}{{extra}} }
        routes:
          - { name: rest, match: { path: "/{**rest}" }, service: bookstore, transcode: grpc }
        """;

    [Fact]
    public async Task Reload_NewDescriptors_Applied_BadOnes_Refused()
    {
        await using var backend = await GrpcBackend.StartAsync();
        var first = Path.Combine(Directory.CreateTempSubdirectory("gatehouse-pb-").FullName, "v1.pb");
        await File.WriteAllBytesAsync(first, GrpcBackend.DescriptorSet());
        await using var gateway = await TestGateway.StartAsync(Config(backend, first));
        var folder = Path.GetDirectoryName(gateway.ConfigPath)!;
        await File.WriteAllBytesAsync(Path.Combine(folder, "v2.pb"), SetWithGetShelfAt("/v2/shelves/{shelf}"));
        await File.WriteAllBytesAsync(Path.Combine(folder, "bad.pb"), SetWithGetShelfAt("/v3/shelves/{shelve}"));

        await gateway.RewriteConfigAsync(Config(backend, "v2.pb"));
        using var moved = await gateway.Client.GetAsync("/v2/shelves/7");
        using var old = await gateway.Client.GetAsync("/v1/shelves/7");
        await gateway.RewriteConfigAsync(Config(backend, "bad.pb"), expectRefusal: true);
        using var kept = await gateway.Client.GetAsync("/v2/shelves/8");

        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, old.StatusCode);
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        Assert.Contains(gateway.Host.Status.Errors, e => e.Message.Contains("method bookstore.v1.Bookstore.GetShelf: path variable 'shelve'", StringComparison.Ordinal));
        Directory.Delete(Path.GetDirectoryName(first)!, recursive: true);
    }

    [Fact]
    public async Task ReloadSignal_SameConfigText_ReadsChangedDescriptorFile()
    {
        await using var backend = await GrpcBackend.StartAsync();
        var file = Path.Combine(Directory.CreateTempSubdirectory("gatehouse-pb-").FullName, "set.pb");
        await File.WriteAllBytesAsync(file, GrpcBackend.DescriptorSet());
        await using var gateway = await TestGateway.StartAsync(Config(backend, file), watch: false);
        await File.WriteAllBytesAsync(file, SetWithGetShelfAt("/v9/shelves/{shelf}"));

        var status = await gateway.Host.ReloadAsync("test");
        using var moved = await gateway.Client.GetAsync("/v9/shelves/7");

        Assert.True(status.LastAttemptSucceeded);
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
    }

    [Fact]
    public async Task Reflection_DescriptorsFromBackend_Transcodes()
    {
        await using var backend = await GrpcBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              bookstore:
                targets: ["{{backend.Url}}"]
                protocol: grpc
                grpc: { reflection: true }
            routes:
              - { name: rest, match: { path: "/{**rest}" }, service: bookstore, transcode: grpc }
            """);

        using var response = await gateway.Client.GetAsync("/v1/books/a/b");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a/b", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Reflection_BackendWithoutIt_LoadRefused()
    {
        await using var notGrpc = await TestBackend.StartEchoAsync();

        var error = await Assert.ThrowsAsync<Gatehouse.Configuration.ConfigException>(() => TestGateway.StartAsync($$"""
            services:
              bookstore:
                targets: ["{{notGrpc.Url}}"]
                protocol: grpc
                grpc: { reflection: true }
            routes:
              - { name: rest, match: { path: "/{**rest}" }, service: bookstore, transcode: grpc }
            """));

        Assert.Contains(error.Errors, e => e.Message.Contains("cannot load descriptors by gRPC server reflection", StringComparison.Ordinal));
    }

    [Fact]
    public async Task IgnoreUnknownFields_UnknownJsonAndQuerySkipped()
    {
        await using var backend = await GrpcBackend.StartAsync();
        var file = Path.Combine(Directory.CreateTempSubdirectory("gatehouse-pb-").FullName, "v1.pb");
        await File.WriteAllBytesAsync(file, GrpcBackend.DescriptorSet());
        await using var gateway = await TestGateway.StartAsync(Config(backend, file, ", ignoreUnknownFields: true"));

        using var response = await gateway.Client.PostAsync("/v1/echo", new StringContent("""{"fInt32": 3, "extra": {"a": [1]}}""", Encoding.UTF8, "application/json"));
        using var query = await gateway.Client.GetAsync("/v1/echo?fInt32=4&debug=1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"fInt32":3}""", await response.Content.ReadAsStringAsync());
        Assert.Equal("""{"fInt32":4}""", await query.Content.ReadAsStringAsync());
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
    }
}
