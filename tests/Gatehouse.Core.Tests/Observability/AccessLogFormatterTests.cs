using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Json;
using Gatehouse.Observability;

namespace Gatehouse.Core.Tests.Observability;

public class AccessLogFormatterTests
{
    private static JsonElement Format(GatewayRequestTelemetry telemetry, params string[] redacted)
    {
        using var formatter = new AccessLogFormatter(redacted);
        var buffer = new ArrayBufferWriter<byte>();
        formatter.Write(telemetry, buffer);
        var text = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static GatewayRequestTelemetry Request(string? query) => new()
    {
        Method = "GET",
        Path = "/a",
        Query = query,
        StatusCode = 200,
        StartTime = new DateTime(2026, 11, 29, 0, 0, 0, DateTimeKind.Utc),
        ClientAddress = IPAddress.IPv6Loopback,
    };

    [Theory]
    [InlineData("?a=1&access_token=t0ken&b=2", "a=1&access_token=REDACTED&b=2")]
    [InlineData("?API_KEY=k3y", "API_KEY=REDACTED")]
    [InlineData("?api%5Fkey=k3y&x", "api%5Fkey=REDACTED&x")]
    [InlineData("?sig=abc&signature=s3cret", "sig=abc&signature=REDACTED")]
    [InlineData("?plain=1", "plain=1")]
    public void Query_CredentialParameters_Redacted(string query, string expected)
    {
        var line = Format(Request(query), "access_token", "api_key", "signature");

        Assert.Equal(expected, line.GetProperty("url").GetProperty("query").GetString());
    }

    [Fact]
    public void Line_ControlCharactersInPathAndUserAgent_StayOneLine_EcsShape()
    {
        var request = Request(null);
        request.Path = "/a\nb\"c";
        request.UserAgent = "evil\r\n{\"injected\":1}";

        var line = Format(request);

        Assert.Equal("/a\nb\"c", line.GetProperty("url").GetProperty("path").GetString());
        Assert.False(line.GetProperty("url").TryGetProperty("query", out _));
        Assert.Equal("::1", line.GetProperty("client").GetProperty("ip").GetString());
        Assert.Equal("2026-11-29T00:00:00Z", line.GetProperty("@timestamp").GetString());
        Assert.False(line.TryGetProperty("trace", out _));
        Assert.False(line.TryGetProperty("injected", out _));
    }

    [Fact]
    public void Line_HugePathAndUserAgent_Capped()
    {
        var request = Request("?" + new string('q', 10_000));
        request.Path = "/" + new string('p', 10_000);
        request.UserAgent = new string('u', 2047) + "\U0001F600" + new string('u', 100);

        var line = Format(request);

        Assert.Equal(AccessLogFormatter.MaxFieldChars, line.GetProperty("url").GetProperty("path").GetString()!.Length);
        Assert.Equal(AccessLogFormatter.MaxFieldChars, line.GetProperty("url").GetProperty("query").GetString()!.Length);
        Assert.Equal(2047, line.GetProperty("user_agent").GetProperty("original").GetString()!.Length);
    }

    [Theory]
    [InlineData("GET", "GET")]
    [InlineData("PATCH", "PATCH")]
    [InlineData("BREW", "_OTHER")]
    [InlineData("get", "_OTHER")]
    public void NormalizeMethod_UnknownMethods_Other(string method, string expected) => Assert.Equal(expected, GatewayMetrics.NormalizeMethod(method));
}
