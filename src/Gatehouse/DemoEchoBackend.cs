using System.Buffers;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Cli;

/// <summary>
/// The built-in demo backend of the quick start: echoes the request it received as JSON, so a new user sees
/// exactly what the gateway forwarded (path rewrite, added headers, request id).
/// </summary>
internal static class DemoEchoBackend
{
    public static async Task<(WebApplication App, string Url)> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapGet("/healthz", context => context.Response.WriteAsync("ok"));
        app.Map("/{**path}", EchoAsync);
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return (app, url);
    }

    private static async Task EchoAsync(HttpContext context)
    {
        long bodyBytes = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                bodyBytes += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var output = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("service", "gatehouse demo echo");
            json.WriteString("method", context.Request.Method);
            json.WriteString("path", context.Request.Path.Value);
            json.WriteString("query", context.Request.QueryString.Value);
            json.WriteNumber("bodyBytes", bodyBytes);
            json.WriteStartObject("headers");
            foreach (var header in context.Request.Headers)
            {
                json.WriteString(header.Key, header.Value.ToString());
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(output.WrittenMemory);
    }
}
