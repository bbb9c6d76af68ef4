namespace Gatehouse.Policies.PathFilter;

/// <summary>
/// Compiled <c>deny: { paths: [...] }</c>: <c>*</c> is one segment, <c>**</c> any number (zero included), so
/// <c>/internal/**</c> covers <c>/internal</c> and everything below. Segments compare case-insensitively,
/// ignoring trailing dots and spaces (<c>/Internal. /x</c> is <c>/internal/x</c> to IIS and Windows file systems)
/// and ignoring <c>;</c> path parameters (<c>/internal;x=1</c> is <c>/internal</c> to Tomcat and Jetty): the list
/// may refuse a little more than a backend would serve, never less.
/// </summary>
internal sealed class PathDenyList
{
    private const int MaxStackSegments = 64;
    private readonly string[][] _patterns;

    public PathDenyList(IReadOnlyList<string> patterns)
    {
        Patterns = patterns;

        // Adjacent '**' mean the same as one; merging them keeps matching linear.
        _patterns = patterns.Select(MergeDoubleStars).ToArray();
    }

    public IReadOnlyList<string> Patterns { get; }

    public string? FirstMatch(string normalizedPath)
    {
        var path = normalizedPath.AsSpan();
        Span<Range> buffer = stackalloc Range[MaxStackSegments];
        var ranges = buffer;
        var count = path.Split(ranges, '/', StringSplitOptions.RemoveEmptyEntries);
        if (count == MaxStackSegments)
        {
            // Very deep paths are rare; count them exactly on the heap.
            ranges = new Range[path.Count('/') + 1];
            count = path.Split(ranges, '/', StringSplitOptions.RemoveEmptyEntries);
        }

        ranges = ranges[..count];
        for (var i = 0; i < _patterns.Length; i++)
        {
            if (Matches(_patterns[i], path, ranges))
            {
                return Patterns[i];
            }
        }

        return null;
    }

    private static string[] MergeDoubleStars(string pattern)
    {
        var segments = new List<string>();
        foreach (var segment in pattern.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment != "**" || segments.Count == 0 || segments[^1] != "**")
            {
                segments.Add(segment);
            }
        }

        return segments.ToArray();
    }

    internal static string? Validate(string pattern)
    {
        if (!pattern.StartsWith('/'))
        {
            return "must start with '/'";
        }

        var segments = pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments.Any(s => s.Contains('*', StringComparison.Ordinal) && s is not ("*" or "**"))
            ? "'*' and '**' must stand alone as a whole segment, e.g. /internal/** or /api/*/admin"
            : null;
    }

    /// <summary>The part of a segment a backend may resolve to: before any ';' parameters, without trailing dots and spaces.</summary>
    private static ReadOnlySpan<char> Canonical(ReadOnlySpan<char> segment)
    {
        var semicolon = segment.IndexOf(';');
        if (semicolon >= 0)
        {
            segment = segment[..semicolon];
        }

        return segment.TrimEnd(". ");
    }

    /// <summary>
    /// Wildcard matching over segments, greedy with one backtrack point (the classic two-pointer algorithm):
    /// O(segments × pattern length), with no recursion a long path could blow up.
    /// </summary>
    private static bool Matches(string[] pattern, ReadOnlySpan<char> path, ReadOnlySpan<Range> segments)
    {
        int p = 0, s = 0, starP = -1, starS = 0;
        while (s < segments.Length)
        {
            if (p < pattern.Length && pattern[p] == "**")
            {
                starP = p++;
                starS = s;
            }
            else if (p < pattern.Length && (pattern[p] == "*" || Canonical(path[segments[s]]).Equals(pattern[p], StringComparison.OrdinalIgnoreCase)))
            {
                p++;
                s++;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                s = ++starS;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == "**")
        {
            p++;
        }

        return p == pattern.Length;
    }
}
