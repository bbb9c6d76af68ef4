using Gatehouse.Configuration;
using Gatehouse.Policies.Transcoding;
using Gatehouse.Proxy;
using Gatehouse.Tests.Bookstore;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Core.Tests.Policies.Transcoding;

/// <summary>Which path the binding is matched on, and what the stage refuses to bind (security review H1).</summary>
public class GrpcTranscodingMiddlewareTests
{
    private static (GrpcTranscodingMiddleware Middleware, List<HttpContext> Forwarded) Setup()
    {
        var errors = new List<string>();
        var set = GrpcDescriptorSet.Load(BookstoreDescriptors.Set(), errors)!;
        Assert.Empty(errors);
        var transcoder = new GrpcTranscoder(set, timeout: null, maxMessageBytes: 4 << 20);
        var route = new CompiledRoute
        {
            Name = "rest",
            Service = "bookstore",
            Options = new RouteOptions { Name = "rest", Service = "bookstore", Match = new MatchOptions { Path = "/v1/{**rest}" } },
            MaxBodyBytes = 1024,
            WebSockets = false,
            Policies = [transcoder],
        };
        var forwarded = new List<HttpContext>();
        var middleware = new GrpcTranscodingMiddleware(c =>
        {
            forwarded.Add(c);
            return Task.CompletedTask;
        }, route, transcoder, NullLogger.Instance);
        return (middleware, forwarded);
    }

    /// <summary>A GET as the stage sees it: <paramref name="path"/> is the normalised path routing used, <paramref name="rawTarget"/> what was sent.</summary>
    private static DefaultHttpContext Get(string path, string rawTarget)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = new PathString(path);   // as given: the string conversion would percent-decode it
        context.Request.ContentLength = 0;
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = rawTarget;
        context.Response.Body = new MemoryStream();
        return context;
    }

    [Fact]
    public async Task InvokeAsync_RawTargetDiffersFromPath_MatchesTheNormalisedPath()
    {
        var (middleware, forwarded) = Setup();
        // Raw, this is GetBook's /v1/{name=shelves/*/books/*}; normalised (what routing and auth saw), GetShelf's /v1/shelves/{shelf}.
        var context = Get("/v1/shelves/7", "/v1/shelves/1/books/2%2F..%2F..%2F..%2Fshelves%2F7");

        await middleware.InvokeAsync(context);

        Assert.Single(forwarded);
        Assert.Equal("bookstore.v1.Bookstore.GetShelf", context.Features.Get<GrpcTranscodingFeature>()!.Binding.Method.FullName);
        Assert.Equal("/bookstore.v1.Bookstore/GetShelf", context.Request.Path.Value);
    }

    [Theory]
    [InlineData("/v1/shelves/../books/2")]   // '..' as the '*' of {name=shelves/*/books/*}
    [InlineData("/v1/shelves/./books/2")]
    [InlineData("/v1/books/a/../../b")]      // '..' inside a '**' capture
    [InlineData("/v1/books/./b")]
    [InlineData("/v1/books/..")]
    [InlineData("/v1/books/a\\..\\..\\b")]   // a separator to Windows backends
    [InlineData("/v1/shelves/1/books/a\\b")]
    public async Task InvokeAsync_DotSegmentOrBackslashInBoundPath_400_NotForwarded(string path)
    {
        // Cannot arrive through PathNormalizationMiddleware; refused in case a path ever reaches the stage unnormalised.
        var (middleware, forwarded) = Setup();
        var context = Get(path, path);

        await middleware.InvokeAsync(context);

        Assert.Empty(forwarded);
        Assert.Equal(400, context.Response.StatusCode);
        Assert.Equal("application/problem+json", context.Response.ContentType);
    }

    [Theory]
    [InlineData("/v1/books/..a/b..", "..a/b..")]
    [InlineData("/v1/books/%2e%2e/x", "%2e%2e/x")]   // the text a '%252e%252e' target decodes to, once
    [InlineData("/v1/shelves/1/books/a b", "shelves/1/books/a b")]
    public async Task InvokeAsync_DotsThatAreNotSegments_Forwarded(string path, string name)
    {
        var (middleware, forwarded) = Setup();
        var context = Get(path, path);

        await middleware.InvokeAsync(context);

        Assert.Single(forwarded);
        var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        Assert.Equal(name, GetBookRequest.Parser.ParseFrom(body.ToArray().AsSpan(5)).Name);
    }
}
