using System.Text.Json;
using Gatehouse.Configuration;
using Gatehouse.Policies.RequestLimits;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Core.Tests.Policies.RequestLimits;

public class RequestLimitsMiddlewareTests
{
    private static GatewayState State(string limits) => new(GatewayCompiler.Compile(
        ConfigLoader.Load($"limits: {limits}\nservices: {{}}\nroutes: []", "t.yaml", _ => null), "", 1));

    private static (DefaultHttpContext Context, MemoryStream Body) Request(string target, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = target;
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        var body = new MemoryStream();
        context.Response.Body = body;
        return (context, body);
    }

    private static async Task<(bool Forwarded, int Status, string? Type)> RunAsync(GatewayState state, DefaultHttpContext context, MemoryStream body)
    {
        var forwarded = false;
        var middleware = new RequestLimitsMiddleware(_ => { forwarded = true; return Task.CompletedTask; }, state, NullLogger<RequestLimitsMiddleware>.Instance);
        await middleware.InvokeAsync(context);
        string? type = null;
        if (body.Length > 0)
        {
            using var json = JsonDocument.Parse(body.ToArray());
            type = json.RootElement.GetProperty("type").GetString();
        }

        return (forwarded, context.Response.StatusCode, type);
    }

    [Fact]
    public async Task InvokeAsync_WithinLimits_CallsNext()
    {
        var (context, body) = Request("/ok?a=1", ("X-A", "1"));
        var result = await RunAsync(State("{ maxUrlBytes: 1KB, maxHeaderBytes: 1KB }"), context, body);
        Assert.True(result.Forwarded);
    }

    [Fact]
    public async Task InvokeAsync_UrlOneByteOver_414()
    {
        var (context, body) = Request("/" + new string('a', 1024));
        var result = await RunAsync(State("{ maxUrlBytes: 1KB }"), context, body);
        Assert.Equal((false, 414, "https://gatehouse.dev/problems/url-too-long"), result);
        Assert.Equal("close", context.Response.Headers.Connection);
    }

    [Fact]
    public async Task InvokeAsync_HeadersOver_431()
    {
        var (context, body) = Request("/", ("X-Big", new string('b', 1100)));
        var result = await RunAsync(State("{ maxHeaderBytes: 1KB }"), context, body);
        Assert.Equal((false, 431, "https://gatehouse.dev/problems/headers-too-large"), result);
    }

    [Theory]
    [InlineData("Content-Length", "5")]
    [InlineData("X-Content-Length", "5")]
    public async Task InvokeAsync_LengthWithTransferEncoding_400AmbiguousFraming(string lengthHeader, string value)
    {
        var (context, body) = Request("/", ("Transfer-Encoding", "chunked"), (lengthHeader, value));
        var result = await RunAsync(State("{}"), context, body);
        Assert.Equal((false, 400, "https://gatehouse.dev/problems/ambiguous-framing"), result);
    }
}
