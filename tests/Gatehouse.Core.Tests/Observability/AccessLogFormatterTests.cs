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
        var formatter = new AccessLogFormatter(redacted);
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
    public void Line_EveryField_NonAsciiAndEscapes_RoundTrip()
    {
        var request = Request("?q=caf\u00e9&x=\"y\"");
        request.Method = "POST";
        request.Path = "/\u00fcber/\U0001F600/a\\b";
        request.UserAgent = "agent/1.0 (\u65e5\u672c) <&>";
        request.RequestId = "req-1";
        request.RequestBodyBytes = 12;
        request.ResponseBodyBytes = 34;
        request.StatusCode = 503;
        request.DurationTicks = System.Diagnostics.Stopwatch.Frequency; // one second
        request.StartTime = new DateTime(2026, 11, 29, 1, 2, 3, DateTimeKind.Utc).AddTicks(1_234_500);
        request.RouteName = "r\u00f6ute";
        request.Service = "svc";
        request.Target = "svc/0";
        request.UpstreamTicks = System.Diagnostics.Stopwatch.Frequency / 2;
        request.UpstreamStatus = 503;
        request.Consumer = "c\u00f8nsumer";
        request.RateLimitDecision = "allowed";
        request.CacheStatus = "miss";
        request.Retries = 2;
        request.Trace = new TraceContext { TraceHigh = 1, TraceLow = 2, SpanId = 3 };

        var line = Format(request);

        Assert.Equal("2026-11-29T01:02:03.12345Z", line.GetProperty("@timestamp").GetString());
        Assert.Equal(1_000_000_000, line.GetProperty("event").GetProperty("duration").GetInt64());
        Assert.Equal("failure", line.GetProperty("event").GetProperty("outcome").GetString());
        var http = line.GetProperty("http");
        Assert.Equal("POST", http.GetProperty("request").GetProperty("method").GetString());
        Assert.Equal("req-1", http.GetProperty("request").GetProperty("id").GetString());
        Assert.Equal(12, http.GetProperty("request").GetProperty("body").GetProperty("bytes").GetInt64());
        Assert.Equal(503, http.GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal(34, http.GetProperty("response").GetProperty("body").GetProperty("bytes").GetInt64());
        Assert.Equal("/\u00fcber/\U0001F600/a\\b", line.GetProperty("url").GetProperty("path").GetString());
        Assert.Equal("q=caf\u00e9&x=\"y\"", line.GetProperty("url").GetProperty("query").GetString());
        Assert.Equal("agent/1.0 (\u65e5\u672c) <&>", line.GetProperty("user_agent").GetProperty("original").GetString());
        Assert.Equal("00000000000000010000000000000002", line.GetProperty("trace").GetProperty("id").GetString());
        Assert.Equal("0000000000000003", line.GetProperty("span").GetProperty("id").GetString());
        var gatehouse = line.GetProperty("gatehouse");
        Assert.Equal("r\u00f6ute", gatehouse.GetProperty("route").GetString());
        Assert.Equal("svc", gatehouse.GetProperty("service").GetString());
        Assert.Equal("svc/0", gatehouse.GetProperty("target").GetString());
        Assert.Equal(500_000_000, gatehouse.GetProperty("upstream_duration").GetInt64());
        Assert.Equal(503, gatehouse.GetProperty("upstream_status_code").GetInt32());
        Assert.Equal("c\u00f8nsumer", gatehouse.GetProperty("consumer").GetString());
        Assert.Equal("allowed", gatehouse.GetProperty("rate_limit").GetString());
        Assert.Equal("miss", gatehouse.GetProperty("cache").GetString());
        Assert.Equal(2, gatehouse.GetProperty("retries").GetInt32());
    }

    [Fact]
    public void Line_LoneSurrogate_Refused()
    {
        var request = Request(null);
        request.Path = "/a\ud800b";
        var formatter = new AccessLogFormatter([]);

        Assert.ThrowsAny<ArgumentException>(() => formatter.Write(request, new ArrayBufferWriter<byte>()));
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
