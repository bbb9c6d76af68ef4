using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.FunctionalTests.Common;

/// <summary>A real Kestrel backend on 127.0.0.1, port 0, whose endpoints each test maps itself.</summary>
public sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;
    private int _completed;

    private TestBackend(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    public int Port => new Uri(Url).Port;

    /// <summary>Requests seen so far (all paths).</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Requests whose handler finished without an error (a request cut off mid-body does not count).</summary>
    public int CompletedRequests => Volatile.Read(ref _completed);

    public static async Task<TestBackend> StartAsync(Action<WebApplication> map, HttpProtocols protocols = HttpProtocols.Http1)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            k.Listen(IPAddress.Loopback, 0, o => o.Protocols = protocols);
        });
        var app = builder.Build();
        var backend = new TestBackend(app);
        app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref backend._requests);
            await next(context);
            Interlocked.Increment(ref backend._completed);
        });
        map(app);
        await app.StartAsync();
        backend.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return backend;
    }

    /// <summary>A backend answering every path with "METHOD PATH" and echoing request headers as X-Echo-*.</summary>
    public static Task<TestBackend> StartEchoAsync(string name = "echo") => StartAsync(app => app.Map("/{**path}", async context =>
    {
        context.Response.Headers["X-Backend"] = name;
        foreach (var header in context.Request.Headers)
        {
            context.Response.Headers["X-Echo-" + header.Key] = header.Value;
        }

        long bodyBytes = 0;
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
        {
            bodyBytes += read;
        }

        context.Response.Headers["X-Body-Bytes"] = bodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await context.Response.WriteAsync($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
    }));

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
