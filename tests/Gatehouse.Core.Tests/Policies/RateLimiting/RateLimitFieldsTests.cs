using System.Diagnostics.Metrics;
using Gatehouse.Configuration;
using Gatehouse.Core.Tests.Common;
using Gatehouse.Policies.RateLimiting;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Core.Tests.Policies.RateLimiting;

/// <summary>An admitted request's RateLimit fields, held as the request's deferred response headers.</summary>
[Collection("memory measurements")]
public class RateLimitFieldsTests
{
    private static Task<(RateLimitMiddleware Middleware, DefaultHttpContext Context)> SetupAsync(string policy)
    {
        var options = ConfigLoader.Load($$"""
            rateLimits:
              p: {{policy}}
            services:
              s: { targets: ["http://127.0.0.1:1"] }
            routes:
              - { name: r, match: { path: /p }, service: s, rateLimit: [p] }
            """, "t.yaml", _ => null);
        var route = GatewayCompiler.Compile(options, "", 1).Routes["r"];
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        return Task.FromResult((new RateLimitMiddleware(_ => Task.CompletedTask, route.RateLimits!, route.Name, NullLogger.Instance), context));
    }

    [Fact]
    public async Task InvokeAsync_Admitted_HoldsTheFieldsUntilTheResponse()
    {
        var (middleware, context) = await SetupAsync("{ limit: 100, window: 1m, legacyHeaders: true }");

        await middleware.InvokeAsync(context);

        Assert.Empty(context.Response.Headers);
        var fields = context.Features.Get<DeferredResponseHeaders>();
        Assert.NotNull(fields);
        Assert.Equal(5, fields.Count);
        Assert.True(fields.Holds("ratelimit-policy") && fields.Holds("RateLimit") && fields.Holds("X-RateLimit-Reset"));
    }

    [Fact]
    public async Task Apply_BackendSentItsOwnFields_ReplacesThemAndKeepsTheRest()
    {
        var (middleware, context) = await SetupAsync("{ limit: 100, window: 1m, legacyHeaders: true }");
        await middleware.InvokeAsync(context);
        var backend = new HeaderDictionary { ["RateLimit"] = "\"backend\";r=7", ["x-ratelimit-remaining"] = "7", ["Content-Type"] = "text/plain" };

        context.Features.Get<DeferredResponseHeaders>()!.Apply(backend);

        Assert.Matches("^\"p\";r=99;t=[0-9]+$", backend["RateLimit"].ToString());
        Assert.Equal("\"p\";q=100;w=60", backend["RateLimit-Policy"].ToString());
        Assert.Equal(("100", "99"), (backend["X-RateLimit-Limit"].ToString(), backend["X-RateLimit-Remaining"].ToString()));
        Assert.Matches("^[0-9]+$", backend["X-RateLimit-Reset"].ToString());
        Assert.Equal("text/plain", backend["Content-Type"].ToString());
        Assert.Equal(6, backend.Count);
    }

    [Fact]
    public async Task InvokeAsync_HeadersNever_HoldsNothing()
    {
        var (middleware, context) = await SetupAsync("{ limit: 100, window: 1m, headers: never }");

        await middleware.InvokeAsync(context);

        Assert.Null(context.Features.Get<DeferredResponseHeaders>());
    }

    [Fact]
    public void Add_TheFiveRateLimitFields_AllocatesOnlyTheHolder()
    {
        var target = new HeaderDictionary();
        var names = new[] { RateLimitMiddleware.PolicyHeader, RateLimitMiddleware.LimitHeader, "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset" };
        long Cycle()
        {
            var fields = new DeferredResponseHeaders();
            foreach (var name in names)
            {
                fields.Add(name, "v");
            }

            fields.Apply(target);
            return fields.Holds("X-RateLimit-Reset") ? fields.Count : 0;
        }

        for (var i = 0; i < 100; i++)
        {
            Cycle();
        }

        const int Cycles = 1000;
        var before = GC.GetAllocatedBytesForCurrentThread();
        var held = 0L;
        for (var i = 0; i < Cycles; i++)
        {
            held += Cycle();
        }

        var perCycle = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Cycles;

        Assert.Equal(5L * Cycles, held);
        // The holder with its six inline pairs is 128 bytes; a list or array of pairs would add at least 100 more.
        Assert.True(perCycle <= 128, $"{perCycle:F1} bytes per request's fields");
    }
}
