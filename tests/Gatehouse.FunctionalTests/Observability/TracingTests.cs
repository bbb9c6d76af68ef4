using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;
using Microsoft.AspNetCore.Builder;

namespace Gatehouse.FunctionalTests.Observability;

/// <summary>W3C trace context through the gateway, in the access log and problem bodies; spans exported over OTLP/HTTP.</summary>
public class TracingTests
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string ClientSpan = "00f067aa0ba902b7";

    private static string TempLog() => Path.Combine(Directory.CreateTempSubdirectory("gatehouse-tracing-").FullName, "access.log");

    private static async Task<HttpResponseMessage> GetAsync(TestGateway gateway, string path, string? traceparent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (traceparent is not null)
        {
            request.Headers.TryAddWithoutValidation("traceparent", traceparent);
        }

        return await gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task ClientTraceparent_ContinuedToBackend_SameTraceIdInAccessLogAndProblemBody()
    {
        var log = TempLog();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            observability: { accessLog: { output: "{{log}}" } }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: traced, match: { path: "/traced/{**rest}" }, service: s }
            """);

        using var response = await GetAsync(gateway, "/traced/1", $"00-{TraceId}-{ClientSpan}-00");
        using var problem = await GetAsync(gateway, "/not-routed", $"00-{TraceId}-{ClientSpan}-00");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = response.Headers.GetValues("X-Echo-traceparent").Single().Split('-');
        Assert.Equal("00", sent[0]);
        Assert.Equal(TraceId, sent[1]);
        Assert.Matches("^[0-9a-f]{16}$", sent[2]);
        Assert.NotEqual(ClientSpan, sent[2]);
        Assert.Equal("00", sent[3]);

        Assert.Equal(HttpStatusCode.NotFound, problem.StatusCode);
        using var body = JsonDocument.Parse(await problem.Content.ReadAsStringAsync());
        Assert.Equal(TraceId, body.RootElement.GetProperty("traceId").GetString());

        var lines = await AccessLogTests.WaitForLinesAsync(log, 2);
        Assert.All(lines, line => Assert.Equal(TraceId, line.GetProperty("trace").GetProperty("id").GetString()));
        Assert.Equal(sent[2], lines[0].GetProperty("span").GetProperty("id").GetString());
    }

    [Fact]
    public async Task NoOrMalformedTraceparent_GatewayStartsATrace_BackendAndProblemBodyGetIt()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: traced, match: { path: "/traced/{**rest}" }, service: s }
            """);

        using var plain = await GetAsync(gateway, "/traced/1", null);
        using var malformed = await GetAsync(gateway, "/traced/2", "00-00000000000000000000000000000000-00f067aa0ba902b7-01");
        using var problem = await GetAsync(gateway, "/not-routed", null);

        var first = plain.Headers.GetValues("X-Echo-traceparent").Single();
        var second = malformed.Headers.GetValues("X-Echo-traceparent").Single();
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-00$", first);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-00$", second);
        Assert.NotEqual(first[3..35], second[3..35]);
        Assert.DoesNotContain("00000000000000000000000000000000", second, StringComparison.Ordinal);
        using var body = JsonDocument.Parse(await problem.Content.ReadAsStringAsync());
        Assert.Matches("^[0-9a-f]{32}$", body.RootElement.GetProperty("traceId").GetString());
    }

    [Fact]
    public async Task TracingDisabled_TraceparentPassesThroughUntouched_NoTraceIdInProblems()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            observability: { tracing: { enabled: false } }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: traced, match: { path: "/traced/{**rest}" }, service: s }
            """);

        using var response = await GetAsync(gateway, "/traced/1", $"00-{TraceId}-{ClientSpan}-01");
        using var problem = await GetAsync(gateway, "/not-routed", $"00-{TraceId}-{ClientSpan}-01");

        Assert.Equal($"00-{TraceId}-{ClientSpan}-01", response.Headers.GetValues("X-Echo-traceparent").Single());
        using var body = JsonDocument.Parse(await problem.Content.ReadAsStringAsync());
        Assert.False(body.RootElement.TryGetProperty("traceId", out _));
    }

    [Fact]
    public async Task Retry_EachTryInTheAccessLog_RetriesCounted()
    {
        var log = TempLog();
        await using var failing = await FaultBackend.StartAsync("failing");
        await using var healthy = await FaultBackend.StartAsync("healthy");
        failing.Fault = Fault.Status;
        failing.Status = 503;
        await using var gateway = await TestGateway.StartAsync($$"""
            observability: { accessLog: { output: "{{log}}" } }
            services:
              s:
                targets: ["{{failing.Url}}", "{{healthy.Url}}"]
                loadBalancing: roundRobin
                retry: { attempts: 1, on: [503], backoff: 1ms }
            routes:
              - { name: retried, match: { path: "/{**rest}" }, service: s }
            """);

        // Round robin sends some first tries to the failing target; each of those is retried once on the healthy one.
        for (var i = 0; i < 4; i++)
        {
            using var response = await GetAsync(gateway, "/x", null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var lines = (await AccessLogTests.WaitForLinesAsync(log, 4)).Select(l => l.GetProperty("gatehouse")).ToList();
        Assert.InRange(failing.Requests, 1, 4);
        Assert.Equal(failing.Requests, lines.Sum(l => l.GetProperty("retries").GetInt32()));
        Assert.All(lines, l =>
        {
            Assert.Equal(healthy.Url, l.GetProperty("target").GetString());
            Assert.Equal(200, l.GetProperty("upstream_status_code").GetInt32());
        });
    }

    [Fact]
    public async Task OtlpEndpoint_SampledRequest_SpansForStagesAndTriesExported_BackendParentIsTheUpstreamSpan()
    {
        var exports = new ConcurrentQueue<byte[]>();
        await using var collector = await TestBackend.StartAsync(app => app.MapPost("/v1/traces", async context =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            exports.Enqueue(buffer.ToArray());
            context.Response.ContentType = "application/x-protobuf";
        }));
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            observability:
              tracing: { otlpEndpoint: "{{collector.Url}}", sampleRatio: 0, serviceName: obs-test-gateway }
            consumers:
              tracer: { apiKeys: ["sha256:{{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("trace-key"u8))}}"] }
            rateLimits:
              traced-limit: { limit: 1000, window: 1m, key: consumer }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: exported, match: { path: "/exported/{**rest}" }, service: s, auth: { providers: [apiKey] }, rateLimit: [traced-limit], cache: { ttl: 60s, keyByConsumer: true } }
            """);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/exported/1");
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{TraceId}-{ClientSpan}-01");
        request.Headers.TryAddWithoutValidation("X-Api-Key", "trace-key");
        using var response = await gateway.Client.SendAsync(request);
        using var unsampled = await GetAsync(gateway, "/exported/2", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = response.Headers.GetValues("X-Echo-traceparent").Single().Split('-');
        Assert.Equal(TraceId, sent[1]);
        Assert.Equal("01", sent[3]);
        Assert.Equal(HttpStatusCode.Unauthorized, unsampled.StatusCode);
        using var unsampledBody = JsonDocument.Parse(await unsampled.Content.ReadAsStringAsync());
        var unsampledTrace = Convert.FromHexString(unsampledBody.RootElement.GetProperty("traceId").GetString()!);

        // OTLP protobuf carries ids as raw bytes and names as UTF-8 strings.
        var traceBytes = Convert.FromHexString(TraceId);
        var upstreamSpan = Convert.FromHexString(sent[2]);
        var clientSpan = Convert.FromHexString(ClientSpan);
        byte[] all = [];
        await Wait.UntilAsync(() =>
        {
            all = exports.SelectMany(b => b).ToArray();
            return Contains(all, "gatehouse.upstream"u8) && Contains(all, "GET exported"u8) && Contains(all, "gatehouse.authenticate"u8)
                && Contains(all, "gatehouse.rate_limit"u8) && Contains(all, "gatehouse.cache"u8);
        }, "the server, authenticate, rate limit, cache and upstream spans at the OTLP endpoint", TimeSpan.FromSeconds(20));

        Assert.True(Contains(all, traceBytes), "the client's trace id");
        Assert.True(Contains(all, upstreamSpan), "the span the backend saw as its parent");
        Assert.True(Contains(all, clientSpan), "the client's span as the server span's parent");
        Assert.True(Contains(all, "obs-test-gateway"u8), "service.name");
        Assert.False(Contains(all, unsampledTrace), "a new trace at sampleRatio 0 is not recorded");
    }

    private static bool Contains(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
