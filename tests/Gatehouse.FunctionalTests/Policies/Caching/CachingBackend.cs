using System.Collections.Concurrent;
using Gatehouse.FunctionalTests.Common;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.FunctionalTests.Policies.Caching;

/// <summary>
/// A real Kestrel backend for cache tests: each path answers as the test says (status, headers, body), counts the
/// requests it got per path, and remembers the last request's headers.
/// </summary>
public sealed class CachingBackend : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Func<HttpContext, Task>> _handlers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    private CachingBackend(TestBackend backend) => Backend = backend;

    public TestBackend Backend { get; }

    public string Url => Backend.Url;

    public ConcurrentDictionary<string, IHeaderDictionary> LastHeaders { get; } = new(StringComparer.Ordinal);

    public static async Task<CachingBackend> StartAsync()
    {
        CachingBackend? self = null;
        var backend = await TestBackend.StartAsync(app => app.Map("/{**path}", context => self!.HandleAsync(context)));
        self = new CachingBackend(backend);
        return self;
    }

    /// <summary>Answers <paramref name="path"/> with <paramref name="body"/> (the request count is appended when it contains {n}) and the headers given.</summary>
    public void Answer(string path, string body = "body {n}", int status = 200, params (string Name, string Value)[] headers) =>
        _handlers[path] = context =>
        {
            var n = Count(path);
            context.Response.StatusCode = status;
            foreach (var (name, value) in headers)
            {
                context.Response.Headers.Append(name, value);
            }

            var bytes = System.Text.Encoding.UTF8.GetBytes(body.Replace("{n}", n.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
            context.Response.ContentLength = bytes.Length;
            return context.Response.Body.WriteAsync(bytes).AsTask();
        };

    public void Handle(string path, Func<HttpContext, Task> handler) => _handlers[path] = handler;

    public int Count(string path) => _counts.GetValueOrDefault(path);

    private Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value!;
        _counts.AddOrUpdate(path, 1, (_, n) => n + 1);
        LastHeaders[path] = new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value));
        if (_handlers.TryGetValue(path, out var handler))
        {
            return handler(context);
        }

        context.Response.StatusCode = 404;
        return Task.CompletedTask;
    }

    public Task StopAsync() => Backend.StopAsync();

    public ValueTask DisposeAsync() => Backend.DisposeAsync();
}
