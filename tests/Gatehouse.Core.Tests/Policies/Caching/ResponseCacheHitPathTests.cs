using System.Diagnostics.Metrics;
using Gatehouse.Configuration;
using Gatehouse.Core.Tests.Common;
using Gatehouse.Policies.Caching;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Core.Tests.Policies.Caching;

/// <summary>The memory hit path on its own: what it writes, and that it allocates nothing per hit.</summary>
public class ResponseCacheHitPathTests
{
    private static (ResponseCacheMiddleware Middleware, DefaultHttpContext Context, CachedResponse Entry) Setup(ManualTime time)
    {
        var services = new ServiceCollection().AddMetrics().AddLogging().BuildServiceProvider();
        var metrics = new CacheMetrics(services.GetRequiredService<IMeterFactory>());
        var cache = new ResponseCache(services, metrics, NullLoggerFactory.Instance);
        var policy = new CachePolicy("r", new RouteCacheOptions(), cache.Memory);
        var route = new CompiledRoute
        {
            Name = "r",
            Service = "s",
            Options = new RouteOptions { Name = "r", Service = "s", Match = new MatchOptions { Path = "/p" } },
            MaxBodyBytes = 1024,
            WebSockets = false,
            Policies = [policy],
        };
        var middleware = new ResponseCacheMiddleware(_ => throw new InvalidOperationException("a hit must not be forwarded"), policy, cache, metrics, time,
            services.GetRequiredService<IServiceScopeFactory>(), NullLogger<ResponseCacheMiddleware>.Instance);
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("h");
        context.Request.Path = "/p";
        context.TraceIdentifier = "id";
        context.SetEndpoint(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(route), "r"));
        var freshness = new Freshness(time.Now, time.Now, TimeSpan.Zero, TimeSpan.FromMinutes(1), TimeSpan.Zero, TimeSpan.Zero, false, false);
        var entry = new CachedResponse
        {
            Key = CacheKey.Build(context, policy)!,
            Status = 200,
            HeaderNames = ["Content-Type", "ETag"],
            HeaderValues = ["text/plain", "\"v\""],
            Body = new byte[16 * 1024],
            Freshness = freshness,
            ETag = "\"v\"",
            Origin = "http://h",
            Path = "/p",
            Size = 17_000,
        };
        cache.Memory.Set(entry);
        return (middleware, context, entry);
    }

    [Fact]
    public async Task Hit_WritesStatusHeadersAgeAndBody()
    {
        var time = new ManualTime();
        var (middleware, context, _) = Setup(time);
        var body = new MemoryStream();
        context.Response.Body = body;
        time.Advance(TimeSpan.FromSeconds(7));

        await middleware.InvokeAsync(context);

        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal("7", context.Response.Headers.Age.ToString());
        Assert.Equal("Gatehouse; hit; ttl=53", context.Response.Headers["Cache-Status"].ToString());
        Assert.Equal("\"v\"", context.Response.Headers.ETag.ToString());
        Assert.Equal(16 * 1024, context.Response.ContentLength);
        Assert.Equal(CacheOutcome.Hit, context.Features.Get<ICacheOutcomeFeature>()!.Outcome);
        await context.Response.BodyWriter.FlushAsync();
        Assert.Equal(16 * 1024, body.Length);
    }

    [Fact]
    public async Task Hit_AllocatesNothingPerRequest()
    {
        var time = new ManualTime();
        var (middleware, context, _) = Setup(time);
        context.Response.Body = Stream.Null;
        for (var i = 0; i < 100; i++)
        {
            await middleware.InvokeAsync(context);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            await middleware.InvokeAsync(context);
        }

        var perHit = (GC.GetAllocatedBytesForCurrentThread() - before) / 1000.0;

        Assert.True(perHit < 1, $"{perHit} bytes allocated per hit");
    }
}
