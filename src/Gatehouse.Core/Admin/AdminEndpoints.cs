using System.Buffers;
using System.Text.Json;
using Gatehouse.Hosting;
using Gatehouse.Policies.Resilience;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Admin;

/// <summary>The admin listener's endpoints. Loopback by default; the observability issue adds auth, routes and the dashboard.</summary>
internal static class AdminEndpoints
{
    public static void Map(IEndpointRouteBuilder admin, GatewayHost host)
    {
        // RequestDelegate overloads: no reflection-based delegate binding, so the admin API stays Native-AOT safe.
        admin.MapGet("/healthz", context => context.Response.WriteAsync("ok\n"));
        admin.MapGet("/readyz", context =>
        {
            context.Response.StatusCode = host.IsReady ? 200 : 503;
            return context.Response.WriteAsync(host.IsReady ? "ready\n" : "starting\n");
        });
        admin.MapGet("/config/status", context => WriteStatusAsync(context, host.Status));
        var breakers = new CircuitBreakerRegistry(host.State);
        admin.MapGet("/services/breakers", context => WriteBreakersAsync(context, breakers));
        admin.MapPost("/reload", async context =>
        {
            var status = await host.ReloadAsync("admin API");
            context.Response.StatusCode = status.LastAttemptSucceeded ? 200 : 422;
            await WriteStatusAsync(context, status);
        });
        Policies.Caching.CacheAdminEndpoints.Map(admin, host.Services.GetRequiredService<Policies.Caching.ResponseCache>());
    }

    /// <summary>Every service with a circuit breaker: <c>{ "orders": { "state": "open", ... } }</c>. Read-only.</summary>
    private static Task WriteBreakersAsync(HttpContext context, CircuitBreakerRegistry breakers)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            foreach (var (service, state, options) in breakers.All())
            {
                json.WriteStartObject(service);
                json.WriteString("state", state switch
                {
                    CircuitState.Open => "open",
                    CircuitState.HalfOpen => "halfOpen",
                    _ => "closed",
                });
                json.WriteNumber("failureRatio", options.FailureRatio);
                json.WriteNumber("minimumRequests", options.MinimumRequests);
                json.WriteNumber("windowSeconds", options.Window.TotalSeconds);
                json.WriteNumber("breakForSeconds", options.BreakFor.TotalSeconds);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }

    private static Task WriteStatusAsync(HttpContext context, ConfigStatus status)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("generation", status.Generation);
            json.WriteString("hash", status.Hash);
            json.WriteString("loadedAt", status.LoadedAt);
            json.WriteString("lastAttemptAt", status.LastAttemptAt);
            json.WriteBoolean("lastAttemptSucceeded", status.LastAttemptSucceeded);
            json.WriteString("reason", status.Reason);
            json.WriteStartArray("errors");
            foreach (var error in status.Errors)
            {
                json.WriteStartObject();
                json.WriteString("file", error.File);
                json.WriteNumber("line", error.Line);
                json.WriteNumber("column", error.Column);
                json.WriteString("message", error.Message);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }
}
