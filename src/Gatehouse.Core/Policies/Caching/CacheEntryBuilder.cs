using Gatehouse.Errors;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// The stored form of a response: built from the forwarded response (<see cref="Build"/>) or from a stored one that a
/// 304 freshened (<see cref="Refresh"/>). Both leave out what belongs to one hop or one request.
/// </summary>
internal static class CacheEntryBuilder
{
    /// <summary>
    /// Response headers never stored: per hop, per request, or the cache's own. Nor are the request's
    /// <see cref="DeferredResponseHeaders"/> (added after the backend's headers, they belong to this request).
    /// </summary>
    private static readonly HashSet<string> UnstoredHeaders = new(
    [
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authentication-Info", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Content-Length", "Age", ResponseCacheMiddleware.CacheStatusHeader, RequestIds.HeaderName, "Set-Cookie",

        // Quota fields describe one request's standing, whoever set them (a backend's own too): never replayed to another.
        "RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
    ], StringComparer.OrdinalIgnoreCase);

    /// <param name="request">The request whose response is stored.</param>
    /// <param name="freshness">Its freshness, with the time the response ended as its response time.</param>
    /// <param name="decision">What <see cref="CacheStorability.Decide"/> said when the response started.</param>
    /// <param name="body">The whole body.</param>
    /// <param name="earlierNames">Headers on the response before it was forwarded: an earlier stage's, for this request only.</param>
    public static CachedResponse Build(in ResponseCacheContext request, Freshness freshness, StoreDecision decision, byte[] body, string[]? earlierNames)
    {
        var context = request.Http;
        var response = context.Response;
        var names = new List<string>(response.Headers.Count);
        var values = new List<StringValues>(response.Headers.Count);
        long size = body.Length + request.Key.Length * 2 + 256;
        var deferred = context.Features.Get<DeferredResponseHeaders>();
        foreach (var (name, value) in response.Headers)
        {
            if (UnstoredHeaders.Contains(name) || deferred?.Holds(name) == true || (earlierNames is not null && Array.IndexOf(earlierNames, name) >= 0))
            {
                continue;
            }

            names.Add(name);
            values.Add(value);
            size += name.Length + value.ToString().Length + 16;
        }

        var tags = response.Headers[request.Policy.Options.TagHeader] is { Count: > 0 } tagHeader
            ? tagHeader.ToString().Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)
            : [];
        var requestHeaders = context.Request.Headers;
        var varyValues = new string[decision.VaryNames.Length];
        for (var i = 0; i < varyValues.Length; i++)
        {
            varyValues[i] = requestHeaders[decision.VaryNames[i]].ToString();
        }

        return new CachedResponse
        {
            Key = request.Key,
            Status = response.StatusCode,
            HeaderNames = names.ToArray(),
            HeaderValues = values.ToArray(),
            Body = body,
            Freshness = freshness,
            ETag = response.Headers.ETag.Count > 0 ? response.Headers.ETag.ToString() : null,
            LastModified = response.Headers.LastModified.Count > 0 ? response.Headers.LastModified.ToString() : null,
            VaryNames = decision.VaryNames,
            VaryValues = varyValues,
            Tags = tags,
            Origin = context.Request.Scheme + "://" + (context.Request.Host.Value ?? "").ToLowerInvariant(),
            Path = context.Request.PathBase.Add(context.Request.Path).Value ?? "/",
            Size = size,
        };
    }

    /// <summary>
    /// RFC 9111 4.3.4: a 304 freshens the stored entry; its headers (but not Content-*) replace the stored ones. A 304
    /// without freshness of its own gets the route's ttl (none when the request carried credentials).
    /// </summary>
    public static CachedResponse Refresh(CachedResponse stale, HttpResponse response, CachePolicy policy, DateTimeOffset requestTime, DateTimeOffset now)
    {
        var headers = response.Headers;
        var directives = CacheControl.Parse(headers.CacheControl);
        var date = headers.Date.Count > 0 && HeaderUtilities.TryParseDate(headers.Date.ToString(), out var parsed) ? parsed : (DateTimeOffset?)null;
        var credentialed = CacheStorability.HasSharedCredentials(response.HttpContext, policy);
        var freshness = Freshness.Compute(directives, stale.Status, date, headers.Expires, headers.Age, requestTime, now, policy, credentialed)
            ?? new Freshness(requestTime, now, TimeSpan.Zero, credentialed ? TimeSpan.Zero : policy.Ttl, policy.StaleWhileRevalidate, policy.StaleIfError, false, false);
        var updated = new List<KeyValuePair<string, StringValues>>();
        var deferred = response.HttpContext.Features.Get<DeferredResponseHeaders>();
        foreach (var (name, value) in headers)
        {
            if (!UnstoredHeaders.Contains(name) && deferred?.Holds(name) != true && !name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                updated.Add(new(name, value));
            }
        }

        return stale.Refreshed(freshness, updated);
    }
}
