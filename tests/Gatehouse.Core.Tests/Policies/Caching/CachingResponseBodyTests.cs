using Gatehouse.Policies.Caching;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Core.Tests.Policies.Caching;

public class CachingResponseBodyTests
{
    private static (CachingResponseBody Body, MemoryStream Client) Create(CaptureMode mode, long maxBytes = 10)
    {
        var client = new MemoryStream();
        var body = new CachingResponseBody(new StreamResponseBodyFeature(client), _ => mode, maxBytes);
        return (body, client);
    }

    [Fact]
    public async Task Tee_PassesThroughAndKeepsACopy()
    {
        var (body, client) = Create(CaptureMode.Tee);

        await body.WriteAsync("hello"u8.ToArray());
        await body.Writer.WriteAsync(" you"u8.ToArray());
        await body.CompleteAsync();

        Assert.Equal("hello you", System.Text.Encoding.ASCII.GetString(client.ToArray()));
        Assert.Equal("hello you", System.Text.Encoding.ASCII.GetString(body.Copy!.ToArray()));
    }

    [Fact]
    public async Task Tee_PastMaxBytes_DropsTheCopy_KeepsPassingThrough()
    {
        var (body, client) = Create(CaptureMode.Tee, maxBytes: 8);

        await body.WriteAsync("hello"u8.ToArray());
        await body.WriteAsync(" world"u8.ToArray());

        Assert.Equal("hello world", System.Text.Encoding.ASCII.GetString(client.ToArray()));
        Assert.Equal(CaptureMode.PassThrough, body.Mode);
        Assert.Null(body.Copy);
    }

    [Fact]
    public async Task Discard_TheClientSeesNothing()
    {
        var (body, client) = Create(CaptureMode.Discard);

        await body.StartAsync();
        await body.WriteAsync("503 problem"u8.ToArray());
        await body.FlushAsync();

        Assert.Equal(0, client.Length);
        Assert.Null(body.Copy);
    }

    [Fact]
    public void Decide_RunsOnce()
    {
        var calls = 0;
        var body = new CachingResponseBody(new StreamResponseBodyFeature(Stream.Null), _ =>
        {
            calls++;
            return CaptureMode.PassThrough;
        }, 10);

        body.Decide();
        body.Decide();

        Assert.Equal(1, calls);
    }
}
