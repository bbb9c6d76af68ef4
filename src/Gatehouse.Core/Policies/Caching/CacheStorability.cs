using Gatehouse.Policies.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// RFC 9111 section 3 (may a shared cache store this response?) plus the route's limits. Decided when the response
/// starts, from its status and headers, before any of its body passes.
/// </summary>
internal static class CacheStorability
{
    /// <param name="context">The request, its response started.</param>
    /// <param name="policy">The route's cache settings.</param>
    /// <param name="requestDirectives">The request's own directives.</param>
    /// <param name="requestTime">When the request was sent on (RFC 9111 4.2.3 request_time).</param>
    /// <param name="responseTime">Now: when the response arrived (response_time).</param>
    /// <returns>The freshness and Vary names; no freshness when the response may not be stored.</returns>
    public static StoreDecision Decide(HttpContext context, CachePolicy policy, in CacheControl requestDirectives, DateTimeOffset requestTime, DateTimeOffset responseTime)
    {
        var response = context.Response;
        var headers = response.Headers;
        var status = response.StatusCode;
        if (requestDirectives.NoStore || status is < 200 or 206 or 304 or >= 600 || headers.SetCookie.Count > 0 || headers.ContentRange.Count > 0)
        {
            return default;
        }

        if (response.ContentLength is { } length && length > policy.MaxEntryBytes)
        {
            return default;
        }

        var directives = CacheControl.Parse(headers.CacheControl);
        if (directives.NoStore || directives.Private)
        {
            return default;
        }

        // RFC 9111 3.5: an answer to a request with credentials is shared only when the backend says so.
        var credentialed = HasSharedCredentials(context, policy);
        if (credentialed && !directives.Public && directives.SharedMaxAge < 0 && !directives.MustRevalidate)
        {
            return default;
        }

        var varyNames = Array.Empty<string>();
        var vary = headers.Vary;
        if (vary.Count > 0)
        {
            var names = new List<string>();
            foreach (var value in vary)
            {
                foreach (var part in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (part == "*")
                    {
                        return default;
                    }

                    if (!Array.Exists(policy.HeaderNames, h => h.Equals(part, StringComparison.OrdinalIgnoreCase)) && !names.Contains(part, StringComparer.OrdinalIgnoreCase))
                    {
                        names.Add(part);
                    }
                }
            }

            varyNames = names.ToArray();
        }

        var date = headers.Date.Count > 0 && HeaderUtilities.TryParseDate(headers.Date.ToString(), out var parsed) ? parsed : (DateTimeOffset?)null;
        var freshness = Freshness.Compute(directives, status, date, headers.Expires, headers.Age, requestTime, responseTime, policy, credentialed);
        if (freshness is not { } f)
        {
            return default;
        }

        // Nothing to gain from an entry that is stale at once and can neither be revalidated nor serve on errors.
        if (f.Lifetime <= f.InitialAge && headers.ETag.Count == 0 && headers.LastModified.Count == 0 && f.StaleIfError == TimeSpan.Zero && f.StaleWhileRevalidate == TimeSpan.Zero)
        {
            return default;
        }

        return new StoreDecision(f, varyNames);
    }

    /// <summary>
    /// The request carries credentials whose answer would be shared: <c>Cookie</c> or a route's credential header
    /// (Varnish's built-in policy treats Cookie so too), or <c>Authorization</c> / a caller the gateway
    /// authenticated, unless the route keys by consumer (then the answer is kept for that consumer alone; a request
    /// without a consumer never gets this far).
    /// </summary>
    internal static bool HasSharedCredentials(HttpContext context, CachePolicy policy)
    {
        var headers = context.Request.Headers;
        if (headers.Cookie.Count > 0)
        {
            return true;
        }

        foreach (var name in policy.CredentialHeaders)
        {
            if (headers.ContainsKey(name))
            {
                return true;
            }
        }

        return !policy.KeyByConsumer && (headers.Authorization.Count > 0 || context.User is CallerPrincipal);
    }
}
