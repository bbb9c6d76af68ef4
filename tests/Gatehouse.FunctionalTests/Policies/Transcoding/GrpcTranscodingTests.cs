using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Transcoding;

/// <summary>REST/JSON clients through the gateway to a real gRPC backend, mapped by the bookstore's google.api.http rules.</summary>
public sealed class GrpcTranscodingTests : IAsyncLifetime
{
    private GrpcBackend _backend = null!;
    private TestGateway _gateway = null!;
    private string _descriptors = null!;

    private static string Hash(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public async Task InitializeAsync()
    {
        _backend = await GrpcBackend.StartAsync();
        _descriptors = Path.Combine(Directory.CreateTempSubdirectory("gatehouse-pb-").FullName, "bookstore.pb");
        await File.WriteAllBytesAsync(_descriptors, GrpcBackend.DescriptorSet());
        _gateway = await TestGateway.StartAsync($$"""
            consumers:
              app: { apiKeys: ["{{Hash("key-app")}}"] }
            services:
              bookstore:
                targets: ["{{_backend.Url}}"]
                protocol: grpc
                grpc: { descriptors: "{{_descriptors}}" }
            routes:
              - name: private
                match: { path: "/v1/private/{**rest}" }
                service: bookstore
                transcode: grpc
                auth: { providers: [apiKey] }
              - name: bookstore-rest
                match: { path: "/v1/{**rest}" }
                service: bookstore
                transcode: grpc
                timeout: { response: 7s }
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(_descriptors)!, recursive: true);
    }

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        var response = await _gateway.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    [Fact]
    public async Task Get_PathVariable_Int64AsString()
    {
        var (status, body, response) = await SendAsync(HttpMethod.Get, "/v1/shelves/7");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("""{"id":"7","theme":"theme-7"}""", body.GetRawText());
    }

    [Fact]
    public async Task Get_EmptyRequest_RepeatedMessages()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Get, "/v1/shelves");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body.GetProperty("shelves").GetArrayLength());
        Assert.Equal("history", body.GetProperty("shelves")[1].GetProperty("theme").GetString());
    }

    [Fact]
    public async Task Post_BodyField_MapsToThatField()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Post, "/v1/shelves", """{"id": 5, "theme": "poetry"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"id":"5","theme":"poetry"}""", body.GetRawText());
    }

    [Theory]
    [InlineData("/v1/shelves/1/books/2", "shelves/1/books/2")]
    [InlineData("/v1/books/a/b/c", "a/b/c")]
    [InlineData("/v1/shelves/x%20y/books/%C3%BC", "shelves/x y/books/ü")]
    public async Task Get_MultiSegmentVariable_AndAdditionalBinding(string path, string name)
    {
        var (status, body, _) = await SendAsync(HttpMethod.Get, path);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(name, body.GetProperty("name").GetString());
        Assert.Equal("HISTORY", body.GetProperty("genre").GetString());
    }

    [Fact]
    public async Task Patch_NestedPathVariable_BodyField_QueryFieldMask()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Patch, "/v1/shelves/1/books/9?updateMask=title,author", """{"title": "New", "name": "ignored"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("shelves/1/books/9", body.GetProperty("name").GetString());
        Assert.Equal("New", body.GetProperty("title").GetString());
        Assert.Equal("title,author", body.GetProperty("author").GetString());
    }

    [Fact]
    public async Task Post_CustomVerb_BodyStar()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Post, "/v1/shelves/9:archive", "{}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"id":"9","archived":true}""", body.GetRawText());
    }

    [Fact]
    public async Task Get_ResponseBody_OnlyThatField()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Get, "/v1/shelves/3/theme");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("theme-3", body.GetString());
    }

    [Fact]
    public async Task Delete_EmptyResponse_EmptyObject()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Delete, "/v1/shelves/1/books/2");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("{}", body.GetRawText());
    }

    [Fact]
    public async Task Get_QueryParameters_NestedRepeatedEnumBool()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Get, "/v1/echo?fInt32=5&f_int64=-9223372036854775808&rString=a&rString=b&fNested.value=3&fNested.tags=x&fEnum=FICTION&fBool=true&wTimestamp=2020-01-01T00:00:00Z&wInt32=4");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"fInt32":5,"fInt64":"-9223372036854775808","fBool":true,"fEnum":"FICTION","fNested":{"value":3,"tags":["x"]},"rString":["a","b"],"wTimestamp":"2020-01-01T00:00:00Z","wInt32":4}""", body.GetRawText());
    }

    [Fact]
    public async Task Get_QueryParameters_EnumByNumber()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Get, "/v1/echo?fEnum=2&rEnum=1&rEnum=HISTORY&rEnum=7&pEnum=0");
        var (negative, negativeBody, _) = await SendAsync(HttpMethod.Get, "/v1/echo?fEnum=-1");
        var (refused, _, _) = await SendAsync(HttpMethod.Get, "/v1/echo?fEnum=2x");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"fEnum":"HISTORY","rEnum":["FICTION","HISTORY",7],"pEnum":"GENRE_UNSPECIFIED"}""", body.GetRawText());
        Assert.Equal(HttpStatusCode.OK, negative);
        Assert.Equal("""{"fEnum":-1}""", negativeBody.GetRawText());
        Assert.Equal(HttpStatusCode.BadRequest, refused);
    }

    [Fact]
    public async Task Post_BodyStar_FullJsonMapping_RoundTrips()
    {
        const string json = """{"fDouble":"NaN","fUint64":"18446744073709551615","fBytes":"AAEC","mInt64String":{"-1":"m"},"oNested":{"value":1},"pInt32":0,"wDuration":"-1.500s","wStruct":{"a":[1,"b",null]},"wAny":{"@type":"type.googleapis.com/bookstore.v1.Nested","value":2}}""";

        var (status, body, _) = await SendAsync(HttpMethod.Post, "/v1/echo", json);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(json).RootElement, body), body.GetRawText());
    }

    [Theory]
    [InlineData(5, 404, "grpc-not-found")]
    [InlineData(3, 400, "grpc-invalid-argument")]
    [InlineData(16, 401, "grpc-unauthenticated")]
    [InlineData(7, 403, "grpc-permission-denied")]
    [InlineData(8, 429, "grpc-resource-exhausted")]
    [InlineData(9, 400, "grpc-failed-precondition")]
    [InlineData(12, 501, "grpc-unimplemented")]
    [InlineData(14, 503, "grpc-unavailable")]
    [InlineData(4, 504, "grpc-deadline-exceeded")]
    [InlineData(13, 500, "grpc-internal")]
    public async Task GrpcError_StandardHttpStatus_MessageAsDetail(int code, int httpStatus, string type)
    {
        var (status, body, response) = await SendAsync(HttpMethod.Get, $"/v1/fail/{code}?message=n%C3%B6pe%20100%25");

        Assert.Equal(httpStatus, (int)status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("https://gatehouse.dev/problems/" + type, body.GetProperty("type").GetString());
        Assert.Equal("nöpe 100%", body.GetProperty("detail").GetString());
        Assert.False(response.Headers.Contains("grpc-status"));
    }

    [Fact]
    public async Task UnknownJsonField_400_BackendNotCalled()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Post, "/v1/echo", """{"fInt32": 1, "nope": 2}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("unknown field 'nope' in bookstore.v1.Everything", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, _backend.State.Calls);
    }

    [Theory]
    [InlineData("GET", "/v1/echo?nope=1", 400)]
    [InlineData("GET", "/v1/echo?fInt32=x", 400)]
    [InlineData("POST", "/v1/echo", 400, "{\"fInt32\": ")]
    [InlineData("GET", "/v1/nothing/here", 404)]
    [InlineData("DELETE", "/v1/shelves", 405)]
    public async Task UnmappableRequests_Refused(string method, string path, int expected, string? json = null)
    {
        var (status, _, _) = await SendAsync(new HttpMethod(method), path, json);

        Assert.Equal(expected, (int)status);
        Assert.Equal(0, _backend.State.Calls);
    }

    [Fact]
    public async Task BackendMessageOver4MB_502_NotBuffered()
    {
        var big = new string('x', 5 * 1024 * 1024);

        var (status, body, _) = await SendAsync(HttpMethod.Post, "/v1/echo", $$"""{"fString": "{{big}}"}""");

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Contains("over the 4194304-byte limit", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RouteTimeout_SentAsGrpcTimeout()
    {
        var before = DateTime.UtcNow;

        var (status, _, _) = await SendAsync(HttpMethod.Get, "/v1/shelves/1");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.InRange(_backend.State.LastDeadline, before.AddSeconds(5), before.AddSeconds(9));
    }

    [Fact]
    public async Task ServerStream_ChunkedJsonArray()
    {
        var (status, body, response) = await SendAsync(HttpMethod.Get, "/v1/shelves/4/books?pageSize=3");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.Equal(["shelves/4/books/1", "shelves/4/books/2", "shelves/4/books/3"], body.EnumerateArray().Select(b => b.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task ServerStream_ErrorAfterMessages_FinalErrorElement()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Get, "/v1/shelves/4/books?pageSize=2&failAfterCode=15");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, body.GetArrayLength());
        Assert.Equal("""{"error":{"code":15,"message":"stream failed","status":"DATA_LOSS"}}""", body[2].GetRawText());
    }

    [Fact]
    public async Task ServerStream_AcceptNdjson_OneMessagePerLine_ErrorAsLastLine()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/shelves/4/books?pageSize=2&failAfterCode=15");
        request.Headers.Accept.ParseAdd("application/x-ndjson");

        using var response = await _gateway.Client.SendAsync(request);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(3, lines.Length);
        Assert.Equal("shelves/4/books/2", JsonDocument.Parse(lines[1]).RootElement.GetProperty("name").GetString());
        Assert.Equal("""{"error":{"code":15,"message":"stream failed","status":"DATA_LOSS"}}""", lines[2]);
    }

    [Fact]
    public async Task ServerStream_ErrorBeforeMessages_Problem()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Get, "/v1/shelves/4/books?pageSize=0&failAfterCode=5");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("stream failed", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ServerStream_NoMessages_EmptyArray()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Get, "/v1/shelves/4/books");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("[]", body.GetRawText());
    }

    [Fact]
    public async Task AuthOnTranscodedRoute_401ProblemJson_NotGrpcStyle()
    {
        var (status, body, response) = await SendAsync(HttpMethod.Get, "/v1/private/x");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("https://gatehouse.dev/problems/unauthenticated", body.GetProperty("type").GetString());
    }
}
