using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.FunctionalTests.Errors;

public class BackendFaultTests
{
    private static async Task<(int Status, string Type, string? RequestId)> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return ((int)response.StatusCode, body.RootElement.GetProperty("type").GetString()!, body.RootElement.GetProperty("requestId").GetString());
    }

    /// <summary>A loopback port with nothing listening: bound by a listener we keep open but never accept on would queue; so we stop a real backend instead.</summary>
    private static async Task<string> ClosedPortUrlAsync()
    {
        var backend = await TestBackend.StartEchoAsync();
        var url = backend.Url;
        await backend.DisposeAsync();
        return url;
    }

    [Fact]
    public async Task Backend_Refused_502WithRequestId()
    {
        var url = await ClosedPortUrlAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              down: { targets: ["{{url}}"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: down }
            """);

        using var response = await gateway.Client.GetAsync("/x");

        var (status, type, requestId) = await ProblemAsync(response);
        Assert.Equal(502, status);
        Assert.Equal("https://gatehouse.dev/problems/bad-gateway", type);
        Assert.Equal(response.Headers.GetValues("X-Request-Id").Single(), requestId);
    }

    [Fact]
    public async Task Backend_Slow_504WithinTimeout()
    {
        await using var backend = await TestBackend.StartAsync(app => app.Map("/{**p}", async context =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
        }));
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              slow: { targets: ["{{backend.Url}}"], timeout: 500ms }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: slow }
            """);
        var watch = Stopwatch.StartNew();

        using var response = await gateway.Client.GetAsync("/x");

        watch.Stop();
        var (status, type, _) = await ProblemAsync(response);
        Assert.Equal(504, status);
        Assert.Equal("https://gatehouse.dev/problems/gateway-timeout", type);
        Assert.InRange(watch.Elapsed.TotalMilliseconds, 450, 2500);
    }

    [Fact]
    public async Task Backend_AllUnhealthy_503()
    {
        await using var backend = await TestBackend.StartAsync(app =>
        {
            app.MapGet("/healthz", context =>
            {
                context.Response.StatusCode = 500;
                return Task.CompletedTask;
            });
            app.Map("/{**p}", context => context.Response.WriteAsync("should not be reached"));
        });
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              sick:
                targets: ["{{backend.Url}}"]
                healthCheck: { path: /healthz, interval: 200ms, timeout: 100ms, unhealthyAfter: 1 }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: sick }
            """);

        await Wait.UntilAsync(async () =>
        {
            using var r = await gateway.Client.GetAsync("/x");
            return r.StatusCode == HttpStatusCode.ServiceUnavailable;
        }, "the active health check to take the only target out");
        using var response = await gateway.Client.GetAsync("/x");

        var (status, type, _) = await ProblemAsync(response);
        Assert.Equal(503, status);
        Assert.Equal("https://gatehouse.dev/problems/no-healthy-target", type);
        Assert.True(response.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task Backend_DiesMidBody_ClientSeesAbortedResponse_NotACompleteOne()
    {
        await using var backend = await TestBackend.StartAsync(app => app.Map("/{**p}", async context =>
        {
            if (context.Request.Path != "/abort")
            {
                await context.Response.WriteAsync("fine");
                return;
            }

            context.Response.ContentLength = 1_000_000;
            await context.Response.Body.WriteAsync(new byte[100_000]);
            await context.Response.Body.FlushAsync();
            context.Abort();
        }));
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        using var response = await gateway.Client.GetAsync("/abort", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var read = async () =>
        {
            await using var stream = await response.Content.ReadAsStreamAsync();
            await stream.CopyToAsync(Stream.Null);
        };

        // An IO failure of the body, not a client timeout: the gateway aborted the connection at once.
        var stopwatch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            try
            {
                await read();
            }
            catch (HttpRequestException e) when (e.InnerException is IOException io)
            {
                throw io;
            }
        });
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10));

        // The gateway keeps serving normally at once.
        using var next = await gateway.Client.GetAsync("/y");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Backend_ChunkedDiesMidBody_ClientSeesAbortedResponse()
    {
        await using var backend = await TestBackend.StartAsync(app => app.Map("/{**p}", async context =>
        {
            await context.Response.Body.WriteAsync(new byte[50_000]);
            await context.Response.Body.FlushAsync();
            context.Abort();
        }));
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        // Ended early by the gateway's abort, not by a client timeout (which would be a TaskCanceledException).
        await Assert.ThrowsAsync<HttpRequestException>(() => gateway.Client.GetByteArrayAsync("/x"));
    }
}
