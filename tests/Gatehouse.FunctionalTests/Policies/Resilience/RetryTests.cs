using System.Net;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Resilience;

public class RetryTests
{
    private static async Task<string> StoppedBackendUrlAsync()
    {
        var backend = await TestBackend.StartEchoAsync();
        var url = backend.Url;
        await backend.DisposeAsync();
        return url;
    }

    [Fact]
    public async Task Get_TargetRefusesConnections_RetriedOnTheOtherTarget()
    {
        var deadUrl = await StoppedBackendUrlAsync();
        await using var live = await FaultBackend.StartAsync("live");
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s:
                targets: ["{{deadUrl}}", "{{live.Url}}"]
                loadBalancing: roundRobin
                retry: { attempts: 1, backoff: 1ms }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        for (var i = 0; i < 10; i++)
        {
            using var response = await gateway.Client.GetAsync("/x");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("live", response.Headers.GetValues("X-Backend").Single());
        }

        Assert.Equal(10, live.Requests);
    }

    [Fact]
    public async Task Get_503FromOneTarget_RetriedOnTheOther_ClientNeverSeesThe503()
    {
        await using var failing = await FaultBackend.StartAsync("failing");
        await using var healthy = await FaultBackend.StartAsync("healthy");
        failing.Fault = Fault.Status;
        failing.Status = 503;
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s:
                targets: ["{{failing.Url}}", "{{healthy.Url}}"]
                loadBalancing: roundRobin
                retry: { attempts: 1, on: [503], backoff: 1ms }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        for (var i = 0; i < 10; i++)
        {
            using var response = await gateway.Client.GetAsync("/x");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("ok from healthy", await response.Content.ReadAsStringAsync());
        }

        // Every request that met the failing target went on to the healthy one, never back to the failing one.
        Assert.Equal(10, healthy.Requests);
        Assert.InRange(failing.Requests, 1, 10);
    }

    [Fact]
    public async Task Post_WithoutIdempotencyKey_NeverSentTwice()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.Status;
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"], retry: { attempts: 3, backoff: 1ms, on: [connectFailure, reset, 503] } }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        using (var response = await gateway.Client.PostAsync("/orders", new StringContent("{\"id\":1}")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("failure 503 from backend", await response.Content.ReadAsStringAsync());
        }

        backend.Fault = Fault.ResetBeforeHeaders;
        using (var response = await gateway.Client.PostAsync("/orders", new StringContent("{\"id\":2}")))
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        }

        Assert.Equal(2, backend.Posts);
        backend.Fault = Fault.None;
        using var healthy = await gateway.Client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }

    [Fact]
    public async Task Post_WithIdempotencyKey_RetriedWithTheWholeBody()
    {
        await using var failing = await FaultBackend.StartAsync("failing");
        await using var healthy = await FaultBackend.StartAsync("healthy");
        failing.Fault = Fault.ResetBeforeHeaders;
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s:
                targets: ["{{failing.Url}}", "{{healthy.Url}}"]
                loadBalancing: first
                retry: { attempts: 1, backoff: 1ms }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);
        var first = string.CompareOrdinal(failing.Url, healthy.Url) < 0 ? failing : healthy;
        first.Fault = Fault.ResetBeforeHeaders;
        var second = first == failing ? healthy : failing;
        second.Fault = Fault.None;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = new ByteArrayContent(new byte[10_000]) };
        request.Headers.Add("Idempotency-Key", "order-42");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("10000", response.Headers.GetValues("X-Body-Bytes").Single());
        Assert.Equal(1, first.Posts);
        Assert.Equal(1, second.Posts);
    }

    /// <summary>A body of unknown length: HttpClient sends it chunked.</summary>
    private sealed class ChunkedContent(int length) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(new byte[length]).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task Post_WithIdempotencyKey_ChunkedBody_NotRetried()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.Status;
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"], retry: { attempts: 2, backoff: 1ms } }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = new ChunkedContent(100) };
        request.Headers.Add("Idempotency-Key", "order-43");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("100", response.Headers.GetValues("X-Body-Bytes").Single());
        Assert.Equal(1, backend.Posts);
    }

    [Fact]
    public async Task Put_BodyOverReplayLimit_NotRetried()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.Status;
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"], retry: { attempts: 2, backoff: 1ms, maxReplayBody: 1KB } }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        using var small = await gateway.Client.PutAsync("/x", new ByteArrayContent(new byte[100]));
        var afterSmall = backend.Requests;
        using var large = await gateway.Client.PutAsync("/x", new ByteArrayContent(new byte[4096]));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, small.StatusCode);
        Assert.Equal(3, afterSmall);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, large.StatusCode);
        Assert.Equal(4, backend.Requests);
    }

    [Fact]
    public async Task FailureMidBody_NotRetried_ClientSeesAbortedResponse_ThenServedNormally()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.ResetMidBody;
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"], retry: { attempts: 2, backoff: 1ms }, timeout: { response: 5s } }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        using (var response = await gateway.Client.GetAsync("/x", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await using var stream = await response.Content.ReadAsStreamAsync();
                await stream.CopyToAsync(Stream.Null);
            });
        }

        Assert.Equal(1, backend.Requests);
        backend.Fault = Fault.None;
        using var next = await gateway.Client.GetAsync("/y");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task FailureStorm_RetryBudget_KeepsExtraLoadWithinItsShare()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.Status;
        backend.Status = 502;
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"], retry: { attempts: 2, backoff: 1ms, budget: 20%, minRetriesPerSecond: 0 } }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);
        const int requests = 200;

        for (var i = 0; i < requests; i++)
        {
            using var response = await gateway.Client.GetAsync("/x");
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        }

        // Without the budget every request would have been tried 3 times (600 calls); with it, at most 20% more.
        var extra = backend.Requests - requests;
        Assert.InRange(extra, requests / 10, requests / 5);

        backend.Fault = Fault.None;
        using var healthy = await gateway.Client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }

    [Fact]
    public async Task NoRetryConfigured_503PassesThroughOnce()
    {
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.Status;
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"], timeout: { response: 5s } }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        using var response = await gateway.Client.GetAsync("/x");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("failure 503 from backend", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, backend.Requests);
    }
}
