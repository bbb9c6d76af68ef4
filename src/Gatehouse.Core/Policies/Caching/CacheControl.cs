using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// The <c>Cache-Control</c> directives a shared cache acts on (RFC 9111 section 5.2), request or response.
/// </summary>
/// <remarks>
/// Hand-written rather than <c>Microsoft.Net.Http.Headers.CacheControlHeaderValue.TryParse</c>: that one builds an
/// object and lists of extension values per header, and this runs on every cacheable request (the request's own
/// <c>Cache-Control</c> is read before the lookup). This reads the header text in place and allocates nothing.
/// Unknown directives are ignored, as RFC 9111 section 5.2.3 asks; a malformed number makes a delta invalid, which
/// for <c>max-age</c> means "stale" (section 4.2.1 says to treat invalid freshness as stale).
/// </remarks>
internal struct CacheControl
{
    public bool NoStore;
    public bool NoCache;
    public bool Private;
    public bool Public;
    public bool MustRevalidate;
    public bool ProxyRevalidate;
    public bool OnlyIfCached;

    /// <summary>Seconds, or -1 when absent.</summary>
    public long MaxAge;
    public long SharedMaxAge;
    public long StaleWhileRevalidate;
    public long StaleIfError;
    public long MinFresh;

    /// <summary>Request <c>max-stale</c>: -1 absent, <see cref="long.MaxValue"/> when given without a value.</summary>
    public long MaxStale;

    /// <summary>No directives at all: what a request without <c>Cache-Control</c> (and a background refresh) has.</summary>
    public static readonly CacheControl None = Parse(default);

    /// <summary>A request's directives: its <c>Cache-Control</c>, else a <c>Pragma: no-cache</c> as <c>no-cache</c>.</summary>
    public static CacheControl ForRequest(IHeaderDictionary headers)
    {
        var cacheControl = headers.CacheControl;
        if (cacheControl.Count > 0)
        {
            return Parse(cacheControl);
        }

        // RFC 9111 5.4: Pragma: no-cache counts only when there is no Cache-Control.
        if (headers.Pragma.Count > 0 && headers.Pragma.ToString().Contains("no-cache", StringComparison.OrdinalIgnoreCase))
        {
            var result = None;
            result.NoCache = true;
            return result;
        }

        return None;
    }

    public static CacheControl Parse(StringValues values)
    {
        var result = new CacheControl { MaxAge = -1, SharedMaxAge = -1, StaleWhileRevalidate = -1, StaleIfError = -1, MinFresh = -1, MaxStale = -1 };
        for (var i = 0; i < values.Count; i++)
        {
            if (values[i] is { } value)
            {
                ParseInto(value.AsSpan(), ref result);
            }
        }

        return result;
    }

    private static void ParseInto(ReadOnlySpan<char> text, ref CacheControl result)
    {
        while (!text.IsEmpty)
        {
            // One directive: name[=value], value a token or a quoted string (which may hold commas).
            text = text.TrimStart(" \t,");
            if (text.IsEmpty)
            {
                break;
            }

            var nameEnd = text.IndexOfAny("=, \t");
            var name = nameEnd < 0 ? text : text[..nameEnd];
            text = nameEnd < 0 ? [] : text[nameEnd..].TrimStart(" \t");
            var argument = ReadOnlySpan<char>.Empty;
            var hasArgument = false;
            if (!text.IsEmpty && text[0] == '=')
            {
                hasArgument = true;
                text = text[1..].TrimStart(" \t");
                if (!text.IsEmpty && text[0] == '"')
                {
                    var close = text[1..].IndexOf('"');
                    argument = close < 0 ? text[1..] : text.Slice(1, close);
                    text = close < 0 ? [] : text[(close + 2)..];
                }
                else
                {
                    var end = text.IndexOfAny(", \t");
                    argument = end < 0 ? text : text[..end];
                    text = end < 0 ? [] : text[end..];
                }
            }

            // Skip anything up to the next comma (junk after a value).
            var comma = text.IndexOf(',');
            text = comma < 0 ? [] : text[comma..];
            Apply(name, hasArgument, argument, ref result);
        }
    }

    private static void Apply(ReadOnlySpan<char> name, bool hasArgument, ReadOnlySpan<char> argument, ref CacheControl result)
    {
        if (Is(name, "no-store"))
        {
            result.NoStore = true;
        }
        else if (Is(name, "no-cache"))
        {
            // The qualified form (no-cache="Set-Cookie") is treated as the unqualified one: stricter, and simpler.
            result.NoCache = true;
        }
        else if (Is(name, "private"))
        {
            result.Private = true;
        }
        else if (Is(name, "public"))
        {
            result.Public = true;
        }
        else if (Is(name, "must-revalidate"))
        {
            result.MustRevalidate = true;
        }
        else if (Is(name, "proxy-revalidate"))
        {
            result.ProxyRevalidate = true;
        }
        else if (Is(name, "only-if-cached"))
        {
            result.OnlyIfCached = true;
        }
        else if (Is(name, "max-age"))
        {
            result.MaxAge = Delta(argument);
        }
        else if (Is(name, "s-maxage"))
        {
            result.SharedMaxAge = Delta(argument);
        }
        else if (Is(name, "stale-while-revalidate"))
        {
            result.StaleWhileRevalidate = Delta(argument);
        }
        else if (Is(name, "stale-if-error"))
        {
            result.StaleIfError = Delta(argument);
        }
        else if (Is(name, "min-fresh"))
        {
            result.MinFresh = Delta(argument);
        }
        else if (Is(name, "max-stale"))
        {
            result.MaxStale = hasArgument ? Delta(argument) : long.MaxValue;
        }
    }

    private static bool Is(ReadOnlySpan<char> name, string directive) => name.Equals(directive, StringComparison.OrdinalIgnoreCase);

    /// <summary>delta-seconds (RFC 9111 1.2.2): digits only; too large saturates at 2^31 as the RFC asks; invalid is 0 (stale).</summary>
    internal static long Delta(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return 0;
        }

        long value = 0;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return 0;
            }

            value = Math.Min(value * 10 + (c - '0'), 2147483648L);
        }

        return value;
    }
}
