using System.Buffers;

namespace Gatehouse.Policies.PathFilter;

/// <summary>What to do with <c>%2F</c> (and <c>%5C</c>) in a request path.</summary>
public enum EscapedSlashes
{
    /// <summary>Decode to <c>/</c> and normalise again: routing, deny lists and the backend all see one path.</summary>
    Unescape,

    /// <summary>Refuse the request with 400.</summary>
    Reject,

    // No "keep": YARP 2.3 re-encodes the '%' of a %2F that Kestrel left in the path (the backend would get %252F),
    // so an encoded slash cannot be passed through intact.
}

/// <summary>
/// Brings a request path to the one form that routing, deny lists and the backend all see. Kestrel has already
/// percent-decoded everything but <c>%2F</c> and removed <c>.</c>/<c>..</c> segments; what is left for a
/// traversal is <c>%2F</c>/<c>%5C</c> (which a backend may decode into separators), backslashes (which
/// Windows backends treat as separators), doubled slashes, and the dot segments those reveal. Hand-written:
/// ASP.NET Core has no public path normaliser, and Envoy's rules (merge slashes, unescape slashes) are the model.
/// </summary>
internal static class PathNormalizer
{
    private static readonly SearchValues<char> Suspicious = SearchValues.Create("\\%;");

    /// <summary>Null when the path is already normal (the common case: one vectorised scan, no allocation).</summary>
    public static string? Normalize(string path, EscapedSlashes escapedSlashes, bool mergeSlashes, out string? rejection)
    {
        rejection = null;
        var span = path.AsSpan();
        var hasEscape = span.IndexOfAny(Suspicious) >= 0;
        var hasDouble = mergeSlashes && span.Contains("//", StringComparison.Ordinal);

        // Kestrel resolves dot segments in an origin-form target, but not every path reaches here that way; never rely on it.
        var hasDot = span.Contains("/.", StringComparison.Ordinal);
        if (span.IndexOfAnyInRange('\0', '\u001f') >= 0 || span.Contains('\u007f'))
        {
            rejection = "The path contains control characters.";
            return null;
        }

        if (!hasEscape && !hasDouble && !hasDot)
        {
            return null;
        }

        var text = path;
        if (hasEscape)
        {
            var hasEncodedSlash = text.Contains("%2F", StringComparison.OrdinalIgnoreCase) || text.Contains("%5C", StringComparison.OrdinalIgnoreCase)
                || text.Contains('\\', StringComparison.Ordinal);
            if (hasEncodedSlash && escapedSlashes == EscapedSlashes.Reject)
            {
                rejection = "Encoded slashes (%2F, %5C) and backslashes are not allowed in the path.";
                return null;
            }

            if (escapedSlashes == EscapedSlashes.Unescape)
            {
                text = text.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase).Replace("%5C", "/", StringComparison.OrdinalIgnoreCase);
            }

            text = text.Replace('\\', '/');
        }

        var segments = new List<string>();
        var parts = text.Split('/');
        for (var i = 0; i < parts.Length; i++)
        {
            var segment = parts[i];

            // Tomcat reads '..;x' as '..': a dot segment with path parameters is a traversal, not a name.
            var semicolon = segment.IndexOf(';', StringComparison.Ordinal);
            if (semicolon >= 0 && segment[..semicolon] is "." or "..")
            {
                rejection = "A dot segment with path parameters ('..;') is not allowed in the path.";
                return null;
            }

            switch (segment)
            {
                case "" when mergeSlashes || i == 0:
                case ".":
                    continue;
                case "..":
                    if (segments.Count > 0)
                    {
                        segments.RemoveAt(segments.Count - 1);
                    }

                    continue;
                default:
                    segments.Add(segment);
                    break;
            }
        }

        var normalized = "/" + string.Join('/', segments);
        if (text.EndsWith('/') && normalized.Length > 1)
        {
            normalized += "/";
        }

        return normalized == path ? null : normalized;
    }
}
