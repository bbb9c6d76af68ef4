using System.Net;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.RequestLimits;

public class RequestLimitsTests
{
    private static string Config(TestBackend backend) => $$"""
        limits: { maxUrlBytes: 1KB, maxHeaderBytes: 4KB, maxBodyBytes: 64KB }
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          - { name: small, match: { path: "/small/{**rest}" }, service: s, limits: { maxBodyBytes: 1KB } }
          - { name: big, match: { path: "/big/{**rest}" }, service: s, limits: { maxBodyBytes: 1MB } }
          - { name: default, match: { path: "/{**rest}" }, service: s }
        """;

    private static async Task AssertProblemAsync(HttpResponseMessage response, int status, string slug)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal($"https://gatehouse.dev/problems/{slug}", body.RootElement.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("requestId").GetString()));
    }

    [Fact]
    public async Task Url_OverLimit_414()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        using var ok = await gateway.Client.GetAsync("/x?q=" + new string('a', 900));
        using var response = await gateway.Client.GetAsync("/x?q=" + new string('a', 1100));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        await AssertProblemAsync(response, 414, "url-too-long");
    }

    [Theory]
    [InlineData("url", 414)]
    [InlineData("headers", 431)]
    public async Task Head_OverLimit_AnsweredOnceWithCloseAndNoBody(string what, int status)
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        var target = what == "url" ? "/x?q=" + new string('a', 1100) : "/x";
        var extra = what == "headers" ? "X-Big: " + new string('b', 5000) + "\r\n" : "";

        var exchange = await RawHttp.SendAsync(gateway.Url, $"HEAD {target} HTTP/1.1\r\nHost: h\r\n{extra}\r\n");

        Assert.Equal(status, exchange.FirstStatus);
        Assert.Equal(1, exchange.ResponseCount);
        Assert.Contains("Connection: close", exchange.Response);
        Assert.Contains("Content-Type: application/problem+json", exchange.Response);
        Assert.EndsWith("\r\n\r\n", exchange.Response);
    }

    [Fact]
    public async Task Headers_OverLimit_431()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/x");
        request.Headers.Add("X-Big", new string('b', 5000));

        using var response = await gateway.Client.SendAsync(request);

        await AssertProblemAsync(response, 431, "headers-too-large");
        Assert.Equal(0, backend.Requests);
    }

    [Theory]
    [InlineData("/small/x", 2048, false)]
    [InlineData("/small/x", 512, true)]
    [InlineData("/x", 100 * 1024, false)]
    [InlineData("/big/x", 100 * 1024, true)]
    public async Task Body_DeclaredLength_RouteLimitElseGlobal(string path, int size, bool allowed)
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        using var response = await gateway.Client.PostAsync(path, new ByteArrayContent(new byte[size]));

        if (allowed)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        else
        {
            await AssertProblemAsync(response, 413, "body-too-large");
            Assert.Equal(0, backend.Requests);
        }
    }

    [Theory]
    [InlineData("/small/x", 4096)]
    [InlineData("/x", 200 * 1024)]
    public async Task Body_ChunkedOverLimit_413(string path, int size)
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        var content = new StreamContent(new MemoryStream(new byte[size]));
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await gateway.Client.SendAsync(request);

        await AssertProblemAsync(response, 413, "body-too-large");
    }

    [Fact]
    public async Task Body_ChunkedUnderLimit_Forwarded()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/big/x") { Content = new StreamContent(new MemoryStream(new byte[500_000])) };
        request.Headers.TransferEncodingChunked = true;

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("500000", response.Headers.GetValues("X-Body-Bytes").Single());
    }
}
