using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;
using Google.Api;
using Google.Protobuf;

namespace Gatehouse.FunctionalTests.Policies.Transcoding;

/// <summary>
/// The binding and its path fields come from the path routing, auth and deny lists judged (security review H1):
/// a key-protected RPC behind <c>/v1/admin/</c>, an anonymous one behind <c>/v1/public/</c>, a file RPC with a
/// <c>**</c> field behind <c>/v1/files/</c> with a denied subtree. Sent as raw bytes, since HTTP client libraries
/// resolve dot segments themselves.
/// </summary>
public sealed class GrpcTranscodingPathTests : IAsyncLifetime
{
    private const string GetSecret = "/bookstore.v1.Bookstore/GetBook";
    private const string GetPublicOrReadFile = "/bookstore.v1.Bookstore/Echo";

    private GrpcBackend _backend = null!;
    private TestGateway _gateway = null!;
    private string _descriptors = null!;

    private static string Hash(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>GetBook as the review's GetSecret, Echo as GetPublic and ReadFile (its <c>fString</c> echoes the bound field).</summary>
    private static byte[] Descriptors()
    {
        var set = Gatehouse.Tests.Bookstore.BookstoreDescriptors.SetOf(Gatehouse.Tests.Bookstore.BookstoreReflection.Descriptor);
        var service = set.File.Single(f => f.Name.EndsWith("bookstore.proto", StringComparison.Ordinal)).Service[0];
        service.Method.Single(m => m.Name == "GetBook").Options.SetExtension(AnnotationsExtensions.Http, new HttpRule { Get = "/v1/admin/{name}" });
        service.Method.Single(m => m.Name == "Echo").Options.SetExtension(AnnotationsExtensions.Http, new HttpRule
        {
            Get = "/v1/public/{f_string}",
            AdditionalBindings = { new HttpRule { Get = "/v1/files/{f_string=**}" } },
        });
        return set.ToByteArray();
    }

    public async Task InitializeAsync()
    {
        _backend = await GrpcBackend.StartAsync();
        _descriptors = Path.Combine(Directory.CreateTempSubdirectory("gatehouse-pb-").FullName, "files.pb");
        await File.WriteAllBytesAsync(_descriptors, Descriptors());
        _gateway = await TestGateway.StartAsync($$"""
            deny: { paths: ["/v1/files/private/**"] }
            consumers:
              alice: { apiKeys: ["{{Hash("key-alice")}}"] }
            services:
              files:
                targets: ["{{_backend.Url}}"]
                protocol: grpc
                grpc: { descriptors: "{{_descriptors}}" }
            routes:
              - { name: admin, match: { path: "/v1/admin/{**rest}" }, service: files, transcode: grpc, auth: { providers: [apiKey] } }
              - { name: public, match: { path: "/v1/{**rest}" }, service: files, transcode: grpc, auth: anonymous }
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(_descriptors)!, recursive: true);
    }

    private async Task<(int Status, string Body)> GetAsync(string target, string? apiKey = null)
    {
        var key = apiKey is null ? "" : $"X-Api-Key: {apiKey}\r\n";
        var exchange = await RawHttp.SendAsync(_gateway.Url, $"GET {target} HTTP/1.1\r\nHost: h\r\n{key}Connection: close\r\n\r\n");
        Assert.True(exchange.Response.Length > 12, $"{target}: no response");
        var headEnd = exchange.Response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var body = exchange.Response[(headEnd + 4)..];
        return (exchange.FirstStatus, exchange.Response[..headEnd].Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase) ? Unchunk(body) : body);
    }

    private static string Unchunk(string chunked)
    {
        var body = new StringBuilder();
        var position = 0;
        while (true)
        {
            var lineEnd = chunked.IndexOf("\r\n", position, StringComparison.Ordinal);
            var size = Convert.ToInt32(chunked[position..lineEnd].Split(';')[0], 16);
            if (size == 0)
            {
                return body.ToString();
            }

            body.Append(chunked, lineEnd + 2, size);
            position = lineEnd + 2 + size + 2;
        }
    }

    private static string? FString(string body) =>
        JsonDocument.Parse(body).RootElement.TryGetProperty("fString", out var value) ? value.GetString() : null;

    [Theory]
    [InlineData("/v1/admin/1", 401)]
    [InlineData("/v1/files/private/x", 403)]
    [InlineData("/v1/files/x%2F..%2Fprivate%2Fpasswd", 403)]
    public async Task Baseline_ProtectedAndDeniedPaths_RefusedBeforeTheBackend(string target, int expected)
    {
        var (status, _) = await GetAsync(target);

        Assert.Equal(expected, status);
        Assert.Equal(0, _backend.State.Calls);
    }

    [Fact]
    public async Task Baseline_AdminWithKey_RunsGetSecret()
    {
        var (status, body) = await GetAsync("/v1/admin/1", apiKey: "key-alice");

        Assert.Equal(200, status);
        Assert.Equal(GetSecret, _backend.State.LastMethod);
        Assert.Equal("1", JsonDocument.Parse(body).RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public async Task SmuggledAdminPath_AnonymousRoute_RunsTheMethodOfTheNormalisedPath()
    {
        // Normalised to /v1/public/x: routed to the anonymous route, so it must run what /v1/public/x maps to.
        var (status, body) = await GetAsync("/v1/admin/1%2F..%2F..%2Fpublic%2Fx");

        Assert.Equal(200, status);
        Assert.Equal(GetPublicOrReadFile, _backend.State.LastMethod);
        Assert.Equal("x", FString(body));
    }

    [Theory]
    [InlineData("/v1/files/private/passwd%2F..%2F..%2Fok", "ok")]   // the deny list saw /v1/files/ok
    [InlineData("/v1/files/%2e%2e/%2e%2e/v1/files/x", "x")]
    [InlineData("/v1/files/a/b/../../../../v1/files/x", "x")]
    [InlineData("/v1/files/a%2Fb/c", "a/b/c")]
    public async Task TraversalIntoDoubleWildcard_BackendGetsTheNormalisedPath(string target, string expected)
    {
        var (status, body) = await GetAsync(target);

        Assert.Equal(200, status);
        Assert.Equal(GetPublicOrReadFile, _backend.State.LastMethod);
        Assert.Equal(expected, FString(body));
    }

    [Theory]
    [InlineData("/v1/public/%2e%2e")]
    [InlineData("/v1/public/..")]
    [InlineData("/v1/public/.")]
    public async Task DotSegmentAsSingleSegmentVariable_NeverReachesTheBackend(string target)
    {
        // Normalised to /v1 (or /v1/public/): no binding, so 404 rather than fString = "..".
        var (status, body) = await GetAsync(target);

        Assert.Equal(404, status);
        Assert.Contains("https://gatehouse.dev/problems/no-route", body, StringComparison.Ordinal);
        Assert.Equal(0, _backend.State.Calls);
    }

    [Theory]
    [InlineData("/v1/public/%252e%252e", "%2e%2e")]   // decoded once: the text '%2e%2e', not a dot segment
    [InlineData("/v1/public/a%20b", "a b")]
    [InlineData("/v1/files/%252e%252e/x", "%2e%2e/x")]
    public async Task PercentEncodedValues_DecodedExactlyOnce(string target, string expected)
    {
        var (status, body) = await GetAsync(target);

        Assert.Equal(200, status);
        Assert.Equal(expected, FString(body));
    }
}
