using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// Freshness and age of a response, RFC 9111 section 4.2, for a shared cache. Pure: the clock comes in as arguments,
/// so the unit tests walk the RFC's table on virtual time.
/// </summary>
internal readonly record struct Freshness(
    DateTimeOffset RequestTime,
    DateTimeOffset ResponseTime,
    TimeSpan InitialAge,
    TimeSpan Lifetime,
    TimeSpan StaleWhileRevalidate,
    TimeSpan StaleIfError,
    bool MustRevalidate,
    bool NoCache)
{
    /// <summary>Statuses that may be stored on a heuristic (here: the route's <c>ttl</c>) without explicit freshness (RFC 9110 15.1).</summary>
    public static bool HeuristicallyCacheable(int status) => status is 200 or 203 or 204 or 300 or 301 or 308 or 404 or 405 or 410 or 414 or 501;

    /// <param name="cacheControl">The response's directives.</param>
    /// <param name="date">The response's <c>Date</c>, or null.</param>
    /// <param name="expires">The response's <c>Expires</c> header text, or empty.</param>
    /// <param name="age">The response's <c>Age</c>, or empty.</param>
    /// <param name="policy">The route's ttl and stale allowances (the backend's own directives win over them).</param>
    /// <param name="credentialed">
    /// The request carried credentials whose answer is shared (<see cref="CacheStorability.HasSharedCredentials"/>):
    /// the route's ttl never stands in for freshness the backend did not give (with <c>overrideTtl</c> it still
    /// replaces freshness the backend did give).
    /// </param>
    /// <returns>The freshness, or null when the response gives no freshness and the route's ttl may not apply to it.</returns>
    public static Freshness? Compute(in CacheControl cacheControl, int status, DateTimeOffset? date, StringValues expires, StringValues age,
        DateTimeOffset requestTime, DateTimeOffset responseTime, CachePolicy policy, bool credentialed = false)
    {
        // 4.2.3: the age the response already had when it arrived.
        var dateValue = date ?? responseTime;
        var apparentAge = responseTime - dateValue;
        if (apparentAge < TimeSpan.Zero)
        {
            apparentAge = TimeSpan.Zero;
        }

        var ageValue = TimeSpan.FromSeconds(age.Count > 0 ? CacheControl.Delta(FirstListValue(age[0])) : 0);
        var correctedAge = ageValue + (responseTime - requestTime);
        var initialAge = apparentAge > correctedAge ? apparentAge : correctedAge;

        // 4.2.1: s-maxage, then max-age, then Expires - Date; else the heuristic (the route's ttl).
        TimeSpan? lifetime = null;
        var explicitFreshness = cacheControl.SharedMaxAge >= 0 || cacheControl.MaxAge >= 0 || expires.Count > 0;
        if (policy.OverrideTtl && (explicitFreshness || !credentialed))
        {
            lifetime = policy.Ttl;
        }
        else if (cacheControl.SharedMaxAge >= 0)
        {
            lifetime = TimeSpan.FromSeconds(cacheControl.SharedMaxAge);
        }
        else if (cacheControl.MaxAge >= 0)
        {
            lifetime = TimeSpan.FromSeconds(cacheControl.MaxAge);
        }
        else if (expires.Count > 0)
        {
            // An invalid Expires ("0", a past date) means already expired (5.3).
            lifetime = TryParseHttpDate(expires[0], out var at) && at > dateValue
                ? at - dateValue
                : TimeSpan.Zero;
        }
        else if (!credentialed && (HeuristicallyCacheable(status) || cacheControl.Public))
        {
            lifetime = policy.Ttl;
        }

        if (lifetime is null)
        {
            return null;
        }

        return new Freshness(
            requestTime,
            responseTime,
            initialAge,
            lifetime.Value,
            cacheControl.StaleWhileRevalidate >= 0 ? TimeSpan.FromSeconds(cacheControl.StaleWhileRevalidate) : policy.StaleWhileRevalidate,
            cacheControl.StaleIfError >= 0 ? TimeSpan.FromSeconds(cacheControl.StaleIfError) : policy.StaleIfError,
            cacheControl.MustRevalidate || cacheControl.ProxyRevalidate || cacheControl.SharedMaxAge >= 0,
            cacheControl.NoCache);
    }

    /// <summary>RFC 9111 5.1: an Age sent as a list (<c>7200, 0</c>, which a cache must not drop) counts by its first value.</summary>
    private static ReadOnlySpan<char> FirstListValue(string? value)
    {
        var text = value.AsSpan();
        var comma = text.IndexOf(',');
        return (comma < 0 ? text : text[..comma]).Trim();
    }

    /// <summary>The three HTTP-date formats a recipient must accept (RFC 9110 5.6.7): IMF-fixdate, RFC 850 and asctime.</summary>
    private static readonly string[] HttpDateFormats =
    [
        "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        "dddd, dd'-'MMM'-'yy HH':'mm':'ss 'GMT'",
        "ddd MMM d HH':'mm':'ss yyyy",
    ];

    /// <summary>An HTTP-date in any of its formats, <c>GMT</c> in any case; false when it is none of them.</summary>
    internal static bool TryParseHttpDate(string? text, out DateTimeOffset at)
    {
        at = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var value = text.Trim();
        if (value.EndsWith("gmt", StringComparison.OrdinalIgnoreCase) && !value.EndsWith("GMT", StringComparison.Ordinal))
        {
            value = string.Concat(value.AsSpan(0, value.Length - 3), "GMT");
        }

        return DateTimeOffset.TryParseExact(value, HttpDateFormats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowInnerWhite, out at);
    }
}
