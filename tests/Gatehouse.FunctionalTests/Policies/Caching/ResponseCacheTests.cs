using System.Net;
using Gatehouse.FunctionalTests.Common;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.FunctionalTests.Policies.Caching;

/// <summary>The cache through a real gateway and a real backend that answers with the headers each case asks for and counts requests.</summary>
public class ResponseCacheTests
{
    internal static string Config(CachingBackend backend, string cache = "{ ttl: 60s }", string extra = "") => $$"""
        {{extra}}
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          - name: cached
            match: { path: "/{**rest}" }
            service: s
            cache: {{cache}}
        """;

    public static TheoryData<string, string[], int> Directives() => new()
    {
        // response headers ("Name: value"), backend requests after two identical GETs
        { "no freshness information: the route's ttl", [], 1 },
        { "max-age", ["Cache-Control: max-age=60"], 1 },
        { "s-maxage", ["Cache-Control: s-maxage=60"], 1 },
        { "s-maxage wins over max-age=0", ["Cache-Control: max-age=0, s-maxage=60"], 1 },
        { "public", ["Cache-Control: public, max-age=60"], 1 },
        { "must-revalidate while fresh", ["Cache-Control: max-age=60, must-revalidate"], 1 },
        { "proxy-revalidate while fresh", ["Cache-Control: max-age=60, proxy-revalidate"], 1 },
        // A fixed far date: theory rows are built at discovery, which can be minutes before the row runs.
        { "Expires in the future", ["Expires: Fri, 01 Jan 2100 00:00:00 GMT"], 1 },
        { "no-store", ["Cache-Control: no-store"], 2 },
        { "private", ["Cache-Control: private, max-age=60"], 2 },
        { "no-cache revalidates every time", ["Cache-Control: no-cache", "ETag: \"v1\""], 2 },
        { "max-age=0 with no validators", ["Cache-Control: max-age=0"], 2 },
        { "Expires in the past", ["Expires: Thu, 01 Jan 1970 00:00:00 GMT"], 2 },
        { "invalid Expires", ["Expires: 0"], 2 },
        { "Set-Cookie", ["Cache-Control: max-age=60", "Set-Cookie: session=abc"], 2 },
        { "Vary: *", ["Cache-Control: max-age=60", "Vary: *"], 2 },
    };

    [Theory]
    [MemberData(nameof(Directives))]
    public async Task Directive_TwoRequests_BackendCalledAsRfc9111Says(string name, string[] headers, int expected)
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "row " + name + " {n}", 200, headers.Select(h => (h[..h.IndexOf(':')], h[(h.IndexOf(':') + 2)..])).ToArray());
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        using var first = await gateway.Client.GetAsync("/r");
        using var second = await gateway.Client.GetAsync("/r");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(expected, backend.Count("/r"));
        Assert.Equal(expected == 1 ? "row " + name + " 1" : "row " + name + " 2", await second.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(500)]
    [InlineData(302)]
    public async Task Status_NotHeuristicallyCacheable_NotStoredOnTtl(int status)
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "x", status, ("Location", "/elsewhere"));
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = gateway.Url };
        (await client.GetAsync("/r")).Dispose();
        (await client.GetAsync("/r")).Dispose();

        Assert.Equal(2, backend.Count("/r"));
    }

    [Fact]
    public async Task Hit_CarriesAgeAndCacheStatus()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "hello", 200, ("Cache-Control", "max-age=100"), ("X-From", "backend"));
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        using var miss = await gateway.Client.GetAsync("/r");
        using var hit = await gateway.Client.GetAsync("/r");

        Assert.Equal("Gatehouse; fwd=uri-miss; stored", miss.Headers.GetValues("Cache-Status").Single());
        Assert.Matches(@"^Gatehouse; hit; ttl=(99|100)$", hit.Headers.GetValues("Cache-Status").Single());
        Assert.InRange(int.Parse(hit.Headers.GetValues("Age").Single(), System.Globalization.CultureInfo.InvariantCulture), 0, 1);
        Assert.Equal("backend", hit.Headers.GetValues("X-From").Single());
        Assert.Equal("hello", await hit.Content.ReadAsStringAsync());
        Assert.Equal(5, hit.Content.Headers.ContentLength);
        Assert.NotEqual(miss.Headers.GetValues("X-Request-Id").Single(), hit.Headers.GetValues("X-Request-Id").Single());
    }

    [Fact]
    public async Task Reload_KeepsStoredEntries_AndAppliesTheNewPolicy()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "n{n}", 200, ("Cache-Control", "max-age=60"));
        backend.Answer("/list", "l{n}", 200, ("Cache-Control", "max-age=60"));
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        Assert.Equal("n1", await gateway.Client.GetStringAsync("/r"));

        await gateway.RewriteConfigAsync(Config(backend, "{ varyBy: { query: [page] } }"));

        Assert.Equal("n1", await gateway.Client.GetStringAsync("/r"));
        Assert.Equal("l1", await gateway.Client.GetStringAsync("/list?page=1&other=x"));
        Assert.Equal("l2", await gateway.Client.GetStringAsync("/list?page=1&other=x"));
        Assert.Equal(1, backend.Count("/r"));
    }

    [Fact]
    public async Task Head_AnsweredFromTheGetEntry_WithoutBody()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "hello", 200, ("Cache-Control", "max-age=100"));
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        (await gateway.Client.GetAsync("/r")).Dispose();

        using var head = await gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/r"));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(5, head.Content.Headers.ContentLength);
        Assert.StartsWith("Gatehouse; hit", head.Headers.GetValues("Cache-Status").Single(), StringComparison.Ordinal);
        Assert.Equal(1, backend.Count("/r"));
    }

    [Fact]
    public async Task Post_BypassesTheCache()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "n={n}", 200, ("Cache-Control", "max-age=100"));
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        (await gateway.Client.PostAsync("/r", new StringContent("a"))).Dispose();
        (await gateway.Client.PostAsync("/r", new StringContent("a"))).Dispose();

        Assert.Equal(2, backend.Count("/r"));
    }

    [Theory]
    [InlineData("POST", 201, true)]
    [InlineData("PUT", 200, true)]
    [InlineData("DELETE", 204, true)]
    [InlineData("PATCH", 303, true)]
    [InlineData("PURGE", 200, true)]
    [InlineData("POST", 500, false)]
    [InlineData("POST", 404, false)]
    [InlineData("OPTIONS", 200, false)]
    public async Task UnsafeRequest_Succeeded_InvalidatesTheUrlAndItsLocations(string method, int status, bool invalidated)
    {
        await using var backend = await CachingBackend.StartAsync();
        var gatewayUrl = "";
        backend.Handle("/items", context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            if (!HttpMethods.IsGet(context.Request.Method))
            {
                context.Response.StatusCode = status;
                context.Response.Headers.Location = "/items/7";
                context.Response.Headers.ContentLocation = gatewayUrl + "items/8";
                return Task.CompletedTask;
            }

            var body = "list " + backend.Count("/items");
            context.Response.ContentLength = body.Length;
            return context.Response.WriteAsync(body);
        });
        backend.Answer("/items/7", "seven {n}", 200, ("Cache-Control", "max-age=60"));
        backend.Answer("/items/8", "eight {n}", 200, ("Cache-Control", "max-age=60"));
        backend.Answer("/other", "other {n}", 200, ("Cache-Control", "max-age=60"));
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        gatewayUrl = gateway.Url.ToString();
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = gateway.Url };
        foreach (var path in new[] { "/items", "/items/7", "/items/8", "/other" })
        {
            Assert.Contains("stored", (await client.GetAsync(path)).Headers.GetValues("Cache-Status").Single(), StringComparison.Ordinal);
        }

        using var unsafeResponse = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/items"));
        var list = await client.GetStringAsync("/items");
        var seven = await client.GetStringAsync("/items/7");
        var eight = await client.GetStringAsync("/items/8");
        var other = await client.GetStringAsync("/other");

        Assert.Equal(status, (int)unsafeResponse.StatusCode);
        Assert.Equal(invalidated ? 3 : 2, backend.Count("/items"));
        Assert.Equal(invalidated ? "seven 2" : "seven 1", seven);
        Assert.Equal(invalidated ? "eight 2" : "eight 1", eight);
        Assert.Equal("other 1", other);
        Assert.Equal(invalidated ? "list 3" : "list 1", list);
    }

    [Fact]
    public async Task IfNoneMatch_MatchingStoredETag_304FromTheCache()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "hello", 200, ("Cache-Control", "max-age=100"), ("ETag", "\"v1\""));
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        (await gateway.Client.GetAsync("/r")).Dispose();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/r");
        request.Headers.TryAddWithoutValidation("If-None-Match", "\"v0\", W/\"v1\"");
        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Equal("\"v1\"", response.Headers.ETag!.ToString());
        Assert.Equal(1, backend.Count("/r"));
    }

    [Fact]
    public async Task IfModifiedSince_NotModified_304FromTheCache_AndModified_200()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "hello", 200, ("Cache-Control", "max-age=100"), ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"));
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        (await gateway.Client.GetAsync("/r")).Dispose();

        using var later = new HttpRequestMessage(HttpMethod.Get, "/r");
        later.Headers.TryAddWithoutValidation("If-Modified-Since", "Tue, 02 Jan 2024 00:00:00 GMT");
        using var notModified = await gateway.Client.SendAsync(later);
        using var earlier = new HttpRequestMessage(HttpMethod.Get, "/r");
        earlier.Headers.TryAddWithoutValidation("If-Modified-Since", "Sun, 31 Dec 2023 00:00:00 GMT");
        using var modified = await gateway.Client.SendAsync(earlier);

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(HttpStatusCode.OK, modified.StatusCode);
        Assert.Equal("hello", await modified.Content.ReadAsStringAsync());
        Assert.Equal(1, backend.Count("/r"));
    }

    [Fact]
    public async Task StaleEntry_RevalidatedWithItsETag_304Refreshes()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Handle("/r", context =>
        {
            context.Response.Headers.CacheControl = "max-age=1";
            context.Response.Headers.ETag = "\"v1\"";
            if (context.Request.Headers.IfNoneMatch == "\"v1\"")
            {
                context.Response.StatusCode = 304;
                return Task.CompletedTask;
            }

            return context.Response.WriteAsync("original");
        });
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        using var first = await gateway.Client.GetAsync("/r");
        await WaitUntilStaleAsync();

        using var revalidated = await gateway.Client.GetAsync("/r");

        Assert.Equal(HttpStatusCode.OK, revalidated.StatusCode);
        Assert.Equal("original", await revalidated.Content.ReadAsStringAsync());
        Assert.Contains("fwd-status=304", revalidated.Headers.GetValues("Cache-Status").Single(), StringComparison.Ordinal);
        Assert.Equal("\"v1\"", backend.LastHeaders["/r"].IfNoneMatch.ToString());
        Assert.Equal(2, backend.Count("/r"));
    }

    /// <summary>
    /// One request through a fresh gateway first: the first one is slow (JIT), and an answer that took longer than its
    /// max-age to arrive is already stale (RFC 9111 4.2.3 counts the response delay in its age; Date has whole seconds,
    /// so an answer is up to a second old on arrival: tests that need an entry stored without validators use max-age=2).
    /// </summary>
    internal static async Task WarmAsync(TestGateway gateway) => (await gateway.Client.GetAsync("/warm-up")).Dispose();

    /// <summary>
    /// Waits (polling the clock, not the gateway, so the backend sees no extra request) until an entry stored now with
    /// <paramref name="maxAge"/> is stale: its Date has whole seconds, so it may already be up to a second old.
    /// </summary>
    internal static Task WaitUntilStaleAsync(int maxAge = 1)
    {
        var staleAt = DateTime.UtcNow.AddSeconds(maxAge).AddMilliseconds(50);
        return Wait.UntilAsync(() => DateTime.UtcNow >= staleAt, "the entry to go stale");
    }

    [Fact]
    public async Task RequestMaxStale_ServesStale_OnlyIfCached_504OnStale_MustRevalidateNeverStale()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "n{n}", 200, ("Cache-Control", "max-age=2"));
        backend.Answer("/strict", "s{n}", 200, ("Cache-Control", "max-age=2, must-revalidate"));
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        await WarmAsync(gateway);
        (await gateway.Client.GetAsync("/r")).Dispose();
        (await gateway.Client.GetAsync("/strict")).Dispose();
        await WaitUntilStaleAsync(2);

        async Task<HttpResponseMessage> Get(string path, string cacheControl)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation("Cache-Control", cacheControl);
            return await gateway.Client.SendAsync(request);
        }

        using var maxStale = await Get("/r", "max-stale=60");
        using var onlyIfCached = await Get("/r", "only-if-cached");
        using var strict = await Get("/strict", "max-stale");

        Assert.Equal("n1", await maxStale.Content.ReadAsStringAsync());
        Assert.Contains("detail=max-stale", maxStale.Headers.GetValues("Cache-Status").Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.GatewayTimeout, onlyIfCached.StatusCode);
        Assert.Equal("s2", await strict.Content.ReadAsStringAsync());
        Assert.Equal(1, backend.Count("/r"));
    }

    [Fact]
    public async Task TwentyConcurrentMisses_OneBackendRequest()
    {
        await using var backend = await CachingBackend.StartAsync();
        var release = new TaskCompletionSource();
        backend.Handle("/slow", async context =>
        {
            await release.Task.WaitAsync(TimeSpan.FromSeconds(10));
            context.Response.Headers.CacheControl = "max-age=60";
            await context.Response.WriteAsync("shared");
        });
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        var requests = Enumerable.Range(0, 20).Select(_ => gateway.Client.GetStringAsync("/slow")).ToArray();
        await Wait.UntilAsync(() => backend.Count("/slow") >= 1, "the first request to reach the backend");
        await Task.Delay(200);
        release.SetResult();
        var bodies = await Task.WhenAll(requests).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.All(bodies, body => Assert.Equal("shared", body));
        Assert.Equal(1, backend.Count("/slow"));
    }

    [Fact]
    public async Task TenConcurrentRequestsOnAnExpiredEntry_OneRevalidation()
    {
        await using var backend = await CachingBackend.StartAsync();
        var release = new TaskCompletionSource();
        backend.Handle("/hot", async context =>
        {
            if (backend.Count("/hot") > 1)
            {
                await release.Task.WaitAsync(TimeSpan.FromSeconds(10));
            }

            context.Response.Headers.CacheControl = "max-age=2";
            await context.Response.WriteAsync("version " + backend.Count("/hot"));
        });
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        await WarmAsync(gateway);
        Assert.Equal("version 1", await gateway.Client.GetStringAsync("/hot"));
        await WaitUntilStaleAsync(2);

        var requests = Enumerable.Range(0, 10).Select(_ => gateway.Client.GetStringAsync("/hot")).ToArray();
        await Wait.UntilAsync(() => backend.Count("/hot") >= 2, "the revalidation to reach the backend");
        await Task.Delay(200);
        release.SetResult();
        var bodies = await Task.WhenAll(requests).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.All(bodies, body => Assert.Equal("version 2", body));
        Assert.Equal(2, backend.Count("/hot"));
    }

    [Fact]
    public async Task StaleIfError_BackendStopped_ServesTheStaleEntry()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "kept", 200, ("Cache-Control", "max-age=1"));
        await using var gateway = await TestGateway.StartAsync(Config(backend, "{ staleIfError: 5m }"));
        (await gateway.Client.GetAsync("/r")).Dispose();
        await WaitUntilStaleAsync();
        await backend.StopAsync();

        using var response = await gateway.Client.GetAsync("/r");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("kept", await response.Content.ReadAsStringAsync());
        Assert.Contains("detail=stale-if-error", response.Headers.GetValues("Cache-Status").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StaleIfError_Backend503_ServesTheStaleEntry_NotWithoutIt()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "kept", 200, ("Cache-Control", "max-age=1"));
        backend.Answer("/plain", "kept", 200, ("Cache-Control", "max-age=1"));
        await using var gateway = await TestGateway.StartAsync(Config(backend, "{ staleIfError: 5m }"));
        (await gateway.Client.GetAsync("/r")).Dispose();
        await WaitUntilStaleAsync();
        backend.Answer("/r", "broken", 503);
        backend.Answer("/other", "broken", 503);

        using var stale = await gateway.Client.GetAsync("/r");
        using var uncached = await gateway.Client.GetAsync("/other");

        Assert.Equal("kept", await stale.Content.ReadAsStringAsync());
        Assert.Contains("fwd-status=503", stale.Headers.GetValues("Cache-Status").Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, uncached.StatusCode);
    }

    [Fact]
    public async Task Hit_CarriesThisRequestsRateLimitFields_NeverTheStoredOnes_NorTheBackends()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/q", "quota", 200, ("Cache-Control", "max-age=60"), ("RateLimit", "\"backend\";r=7;t=1"), ("RateLimit-Policy", "\"backend\";q=8;w=1"));
        await using var gateway = await TestGateway.StartAsync($$"""
            rateLimits:
              p: { limit: 1000, window: 1h, legacyHeaders: true }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: cached, match: { path: "/q" }, service: s, rateLimit: [p], cache: { ttl: 1m } }
            """);

        using var miss = await gateway.Client.GetAsync("/q");
        using var hit = await gateway.Client.GetAsync("/q");

        Assert.Contains("stored", miss.Headers.GetValues("Cache-Status").Single(), StringComparison.Ordinal);
        Assert.Contains("hit", hit.Headers.GetValues("Cache-Status").Single(), StringComparison.Ordinal);
        // One request every 3.6 s refills the quota (GCRA): two in a row leave 999, then 998.
        Assert.Matches("^\"p\";r=999;t=[0-9]+$", miss.Headers.GetValues("RateLimit").Single());
        Assert.Matches("^\"p\";r=998;t=[0-9]+$", hit.Headers.GetValues("RateLimit").Single());
        Assert.Equal("\"p\";q=1000;w=3600", hit.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Equal("998", hit.Headers.GetValues("X-RateLimit-Remaining").Single());
    }

    [Fact]
    public async Task StaleIfError_KeepsTheRateLimitFieldsOfThisRequest()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "kept", 200, ("Cache-Control", "max-age=1"));
        await using var gateway = await TestGateway.StartAsync($$"""
            rateLimits:
              p: { limit: 1000, window: 1m }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: cached, match: { path: "/r" }, service: s, rateLimit: [p], cache: { staleIfError: 5m } }
            """);
        (await gateway.Client.GetAsync("/r")).Dispose();
        await WaitUntilStaleAsync();
        backend.Answer("/r", "broken", 502);

        using var response = await gateway.Client.GetAsync("/r");

        Assert.Equal("kept", await response.Content.ReadAsStringAsync());
        Assert.Contains("detail=stale-if-error", response.Headers.GetValues("Cache-Status").Single(), StringComparison.Ordinal);
        Assert.Matches("r=99[0-9]", response.Headers.GetValues("RateLimit").Single());
    }

    [Fact]
    public async Task StaleIfError_BreakerOpen_ServesTheStaleEntry_WithoutCallingTheBackend()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "kept", 200, ("Cache-Control", "max-age=1"));
        backend.Answer("/trip", "failing", 500);
        var config = $$"""
            services:
              s: { targets: ["{{backend.Url}}"], circuitBreaker: { failureRatio: 0.5, minimumRequests: 3, breakFor: 1m } }
            routes:
              - { name: cached, match: { path: "/r" }, service: s, cache: { staleIfError: 5m } }
              - { name: trip, match: { path: "/trip" }, service: s }
            """;
        await using var gateway = await TestGateway.StartAsync(config);
        (await gateway.Client.GetAsync("/r")).Dispose();
        await WaitUntilStaleAsync();
        await Wait.UntilAsync(async () =>
        {
            using var trip = await gateway.Client.GetAsync("/trip");
            return trip.StatusCode == HttpStatusCode.ServiceUnavailable;
        }, "the breaker to open");
        using var response = await gateway.Client.GetAsync("/r");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("kept", await response.Content.ReadAsStringAsync());
        Assert.Matches(@"^Gatehouse; fwd=stale; fwd-status=503; ttl=-\d+; detail=stale-if-error$", response.Headers.GetValues("Cache-Status").Single());
        Assert.Equal(1, backend.Count("/r"));
    }

    [Fact]
    public async Task StaleIfError_RouteTimeout_ServesTheStaleEntry()
    {
        await using var backend = await CachingBackend.StartAsync();
        var slow = false;
        backend.Handle("/r", async context =>
        {
            if (Volatile.Read(ref slow))
            {
                await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted);
            }

            context.Response.Headers.CacheControl = "max-age=1";
            await context.Response.WriteAsync("kept");
        });
        await using var gateway = await TestGateway.StartAsync(Config(backend, "{ staleIfError: 5m }").Replace("    cache:", "    timeout: { response: 300ms }\n    cache:", StringComparison.Ordinal));
        (await gateway.Client.GetAsync("/r")).Dispose();
        await WaitUntilStaleAsync();
        Volatile.Write(ref slow, true);

        using var response = await gateway.Client.GetAsync("/r");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("kept", await response.Content.ReadAsStringAsync());
        Assert.Contains("fwd-status=504", response.Headers.GetValues("Cache-Status").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StaleWhileRevalidate_ServesStale_ThenOneBackgroundRefresh()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Handle("/r", context =>
        {
            // The refreshed version stays fresh, so no second refresh can start while the test looks.
            var n = backend.Count("/r");
            context.Response.Headers.CacheControl = n == 1 ? "max-age=1" : "max-age=60";
            return context.Response.WriteAsync("version " + n);
        });
        await using var gateway = await TestGateway.StartAsync(Config(backend, "{ staleWhileRevalidate: 30s }"));
        (await gateway.Client.GetAsync("/r")).Dispose();
        await WaitUntilStaleAsync();

        using var stale = await gateway.Client.GetAsync("/r");
        await Wait.UntilAsync(() => backend.Count("/r") == 2, "the background refresh");
        await Wait.UntilAsync(async () => await gateway.Client.GetStringAsync("/r") == "version 2", "the refreshed entry");

        Assert.Equal("version 1", await stale.Content.ReadAsStringAsync());
        Assert.Contains("detail=stale-while-revalidate", stale.Headers.GetValues("Cache-Status").Single(), StringComparison.Ordinal);
        Assert.Equal(2, backend.Count("/r"));
    }

    [Fact]
    public async Task LargerThanMaxEntryBytes_PassedThrough_NotStored()
    {
        await using var backend = await CachingBackend.StartAsync();
        var big = new string('x', 5000);
        backend.Answer("/big", big, 200, ("Cache-Control", "max-age=60"));
        backend.Handle("/chunked", async context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            for (var i = 0; i < 5; i++)
            {
                await context.Response.WriteAsync(new string('y', 1000));
                await context.Response.Body.FlushAsync();
            }
        });
        await using var gateway = await TestGateway.StartAsync(Config(backend, "{ maxEntryBytes: 4KB }"));

        Assert.Equal(big, await gateway.Client.GetStringAsync("/big"));
        Assert.Equal(big, await gateway.Client.GetStringAsync("/big"));
        Assert.Equal(5000, (await gateway.Client.GetStringAsync("/chunked")).Length);
        Assert.Equal(5000, (await gateway.Client.GetStringAsync("/chunked")).Length);

        Assert.Equal(2, backend.Count("/big"));
        Assert.Equal(2, backend.Count("/chunked"));
    }

    [Fact]
    public async Task VaryByQuery_KeyedParametersSorted_OthersBypass()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Handle("/list", context => context.Response.WriteAsync(context.Request.QueryString.Value + " " + backend.Count("/list")));
        await using var gateway = await TestGateway.StartAsync(Config(backend, "{ varyBy: { query: [page, sort] } }"));

        var a = await gateway.Client.GetStringAsync("/list?page=1&sort=name");
        var b = await gateway.Client.GetStringAsync("/list?sort=name&page=1");
        var c = await gateway.Client.GetStringAsync("/list?page=2&sort=name");

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(2, backend.Count("/list"));
    }

    [Fact]
    public async Task ResponseVary_DifferentHeaderValue_IsAMiss()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Handle("/r", context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            context.Response.Headers.Vary = "Accept-Language";
            return context.Response.WriteAsync("lang " + context.Request.Headers.AcceptLanguage);
        });
        await using var gateway = await TestGateway.StartAsync(Config(backend));

        async Task<string> Get(string language)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/r");
            request.Headers.TryAddWithoutValidation("Accept-Language", language);
            using var response = await gateway.Client.SendAsync(request);
            return await response.Content.ReadAsStringAsync();
        }

        Assert.Equal("lang en", await Get("en"));
        Assert.Equal("lang fr", await Get("fr"));
        Assert.Equal("lang fr", await Get("fr"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/r");
        request.Headers.TryAddWithoutValidation("Accept-Language", "de");
        using var response = await gateway.Client.SendAsync(request);
        Assert.Equal("Gatehouse; fwd=vary-miss", response.Headers.GetValues("Cache-Status").Single());
    }

    [Fact]
    public async Task RequestNoCache_Revalidates_MaxAgeOnlyIfCached_Answers504WhenAbsent()
    {
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "n{n}", 200, ("Cache-Control", "max-age=60"));
        await using var gateway = await TestGateway.StartAsync(Config(backend));
        (await gateway.Client.GetAsync("/r")).Dispose();

        using var noCache = new HttpRequestMessage(HttpMethod.Get, "/r");
        noCache.Headers.TryAddWithoutValidation("Cache-Control", "no-cache");
        using var forwarded = await gateway.Client.SendAsync(noCache);
        using var onlyIfCached = new HttpRequestMessage(HttpMethod.Get, "/absent");
        onlyIfCached.Headers.TryAddWithoutValidation("Cache-Control", "only-if-cached");
        using var absent = await gateway.Client.SendAsync(onlyIfCached);

        Assert.Equal("n2", await forwarded.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.GatewayTimeout, absent.StatusCode);
        Assert.Equal(0, backend.Count("/absent"));
    }
}
