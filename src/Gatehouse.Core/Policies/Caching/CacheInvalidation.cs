using Microsoft.AspNetCore.Http;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// RFC 9111 4.4: a successful (2xx, 3xx) unsafe request invalidates what is stored for its target URI, and for the
/// URIs in its answer's <c>Location</c> and <c>Content-Location</c> when they have the same origin (a cache MUST NOT
/// invalidate another origin's entries on that basis). Every stored variant of those URLs goes (all query and header
/// variants, all consumers), as <c>POST /cache/purge {"url": ...}</c> does. Done when the answer starts, before the
/// client has it, so the client's next GET cannot be served what its own request changed.
/// </summary>
internal sealed class CacheInvalidation
{
    private readonly HttpContext _context;
    private readonly ICacheStore _store;

    private CacheInvalidation(HttpContext context, ICacheStore store)
    {
        _context = context;
        _store = store;
    }

    /// <summary>Safe methods (RFC 9110 9.2.1) change nothing; every other method, unknown ones included, may.</summary>
    public static bool IsUnsafe(string method) =>
        !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method) && !HttpMethods.IsOptions(method) && !HttpMethods.IsTrace(method);

    /// <summary>Arranges the invalidation for when the answer starts (one small object per unsafe request on a cached route).</summary>
    public static void OnSuccess(HttpContext context, ICacheStore store) =>
        context.Response.OnStarting(static state => ((CacheInvalidation)state).RunAsync(), new CacheInvalidation(context, store));

    private async Task RunAsync()
    {
        var response = _context.Response;
        if (response.StatusCode is < 200 or >= 400)
        {
            return;
        }

        var request = _context.Request;
        var origin = request.Scheme + "://" + (request.Host.Value ?? "").ToLowerInvariant();
        var path = request.PathBase.Add(request.Path).Value ?? "/";
        await _store.PurgeAsync(new CachePurge(origin, path, null, null));
        var location = SameOriginPath(origin, path, response.Headers.Location.ToString());
        var contentLocation = SameOriginPath(origin, path, response.Headers.ContentLocation.ToString());
        if (location is not null)
        {
            await _store.PurgeAsync(new CachePurge(origin, location, null, null));
        }

        if (contentLocation is not null && contentLocation != location)
        {
            await _store.PurgeAsync(new CachePurge(origin, contentLocation, null, null));
        }
    }

    /// <summary>The path of <paramref name="reference"/> (absolute, or relative to the request's URL) when it has the request's origin, else null.</summary>
    internal static string? SameOriginPath(string origin, string path, string? reference)
    {
        if (string.IsNullOrEmpty(reference) || !Uri.TryCreate(origin + path, UriKind.Absolute, out var target)
            || !Uri.TryCreate(target, reference, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return null;
        }

        if (!string.Equals(uri.Scheme + "://" + uri.Authority.ToLowerInvariant(), origin, StringComparison.Ordinal))
        {
            return null;
        }

        // Decoded as ASP.NET Core decodes the request path, which is what entries are stored under.
        var other = PathString.FromUriComponent(uri).Value ?? "/";
        return other == path ? null : other;
    }
}
