using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// <c>POST /cache/purge</c> on the admin listener, with one or more of:
/// <list type="bullet">
/// <item><c>{"url": "https://api.example.com/catalog/42"}</c>: every stored variant of that URL (all query parameter and
/// header variants, all consumers). The URL is what an operator knows; the internal key also holds the route, the
/// keyed query and headers, which an operator would have to reconstruct.</item>
/// <item><c>{"prefix": "/catalog/"}</c>: every entry whose path starts with it, whatever the host.</item>
/// <item><c>{"tag": "product-42"}</c>: every entry whose tag header (<c>Surrogate-Key</c> by default) named it.</item>
/// </list>
/// Several given together must all match. Answers <c>200 {"purged": n}</c> (the count over the memory store and
/// every Redis store), or 400 when the body names nothing.
/// </summary>
internal static class CacheAdminEndpoints
{
    public static void Map(IEndpointRouteBuilder admin, ResponseCache cache)
    {
        // A RequestDelegate, read with JsonDocument: no reflection-based binding, Native-AOT safe.
        admin.MapPost("/cache/purge", async context =>
        {
            var purge = await ReadAsync(context.Request);
            if (purge is null)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("""{"error":"give one or more of \"url\" (absolute http(s) URL), \"prefix\" (path starting with /) and \"tag\""}""");
                return;
            }

            var purged = 0;
            foreach (var store in cache.Stores)
            {
                purged += await store.PurgeAsync(purge);
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($$"""{"purged":{{purged}}}""");
        });
    }

    internal static async Task<CachePurge?> ReadAsync(HttpRequest request)
    {
        JsonDocument json;
        try
        {
            json = await JsonDocument.ParseAsync(request.Body, default, request.HttpContext.RequestAborted);
        }
        catch (JsonException)
        {
            return null;
        }

        using (json)
        {
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            string? origin = null, path = null, prefix = null, tag = null;
            if (json.RootElement.TryGetProperty("url", out var url))
            {
                if (url.ValueKind != JsonValueKind.String || !Uri.TryCreate(url.GetString(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                {
                    return null;
                }

                origin = uri.Scheme + "://" + uri.Authority.ToLowerInvariant();
                path = uri.AbsolutePath;
            }

            if (json.RootElement.TryGetProperty("prefix", out var p))
            {
                prefix = p.ValueKind == JsonValueKind.String ? p.GetString() : null;
                if (prefix is null || !prefix.StartsWith('/'))
                {
                    return null;
                }
            }

            if (json.RootElement.TryGetProperty("tag", out var t))
            {
                tag = t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                if (string.IsNullOrEmpty(tag))
                {
                    return null;
                }
            }

            return path is null && prefix is null && tag is null ? null : new CachePurge(origin, path, prefix, tag);
        }
    }
}
