using Gatehouse.Errors;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// Answers a request from a stored entry. On the fresh memory hit path: it allocates nothing and completes
/// synchronously while the connection's output buffer has room.
/// </summary>
internal static class CacheResponseWriter
{
    /// <summary>
    /// Writes a stored entry: status, stored headers, Age, Cache-Status, this request's deferred fields, then the body
    /// in one write (or 304 when the client's validators match). <paramref name="forwarded"/>: the request went to the
    /// backend (Cache-Status then says <c>fwd=...</c> instead of <c>hit</c>, RFC 9211).
    /// </summary>
    public static Task WriteAsync(HttpContext context, CachedResponse entry, TimeSpan age, string? forwarded = null, string? detail = null)
    {
        var response = context.Response;
        var headers = response.Headers;
        var notModified = NotModified(context.Request.Headers, entry);
        response.StatusCode = notModified ? StatusCodes.Status304NotModified : entry.Status;
        var names = entry.HeaderNames;
        var values = entry.HeaderValues;
        for (var i = 0; i < names.Length; i++)
        {
            if (notModified && names[i].StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            headers[names[i]] = values[i];
        }

        var stamp = entry.Stamp((long)age.TotalSeconds);
        headers.Age = stamp.Age;
        headers[ResponseCacheMiddleware.CacheStatusHeader] = forwarded is not null
            ? $"Gatehouse; {forwarded}; ttl={(long)Math.Floor((entry.FreshnessLifetime - age).TotalSeconds)}" + (detail is null ? "" : "; " + detail)
            : detail is null ? stamp.CacheStatus : stamp.CacheStatus + "; " + detail;
        headers[RequestIds.HeaderName] = context.TraceIdentifier;
        context.Features.Get<DeferredResponseHeaders>()?.Apply(headers);
        if (notModified || HttpMethods.IsHead(context.Request.Method))
        {
            if (!notModified)
            {
                headers[HeaderNames.ContentLength] = entry.ContentLengthText;
            }

            return Task.CompletedTask;
        }

        // Text formatted once per entry: Kestrel parses it into its numeric slot without allocating.
        headers[HeaderNames.ContentLength] = entry.ContentLengthText;
        if (entry.Body.Length == 0)
        {
            return Task.CompletedTask;
        }

        // The body pipe takes the whole body at once (no Task allocated when the write completes synchronously, as it
        // does while the connection's output buffer has room).
        var write = response.BodyWriter.WriteAsync(entry.Body, context.RequestAborted);
        return write.IsCompletedSuccessfully ? Task.CompletedTask : write.AsTask();
    }

    /// <summary>RFC 9110 13.1.2 / 13.1.3: If-None-Match (weak comparison) wins over If-Modified-Since.</summary>
    private static bool NotModified(IHeaderDictionary request, CachedResponse entry)
    {
        if (entry.Status != StatusCodes.Status200OK)
        {
            return false;
        }

        var ifNoneMatch = request.IfNoneMatch;
        if (ifNoneMatch.Count > 0)
        {
            if (entry.ETag is null)
            {
                return false;
            }

            var stored = Opaque(entry.ETag);
            foreach (var value in ifNoneMatch)
            {
                foreach (var tag in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (tag == "*" || Opaque(tag).SequenceEqual(stored))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        if (request.IfModifiedSince.Count > 0 && HeaderUtilities.TryParseDate(request.IfModifiedSince.ToString(), out var since))
        {
            return entry.LastModified is { } lastModified && HeaderUtilities.TryParseDate(lastModified, out var modified) && modified <= since;
        }

        return false;
    }

    private static ReadOnlySpan<char> Opaque(string tag) => tag.StartsWith("W/", StringComparison.Ordinal) ? tag.AsSpan(2) : tag.AsSpan();
}
