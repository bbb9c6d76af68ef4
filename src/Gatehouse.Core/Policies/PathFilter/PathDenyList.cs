namespace Gatehouse.Policies.PathFilter;

/// <summary>
/// Compiled <c>deny: { paths: [...] }</c>: <c>*</c> is one segment, <c>**</c> any number (zero included), so
/// <c>/internal/**</c> covers <c>/internal</c> and everything below. Segments compare case-insensitively and
/// ignoring trailing dots (<c>/Internal./x</c> is <c>/internal/x</c> to IIS and to Windows file systems):
/// the list may refuse a little more than the backend would serve, never less.
/// </summary>
internal sealed class PathDenyList(IReadOnlyList<string> patterns)
{
    private readonly string[][] _patterns = patterns.Select(Split).ToArray();

    public IReadOnlyList<string> Patterns { get; } = patterns;

    public string? FirstMatch(string normalizedPath)
    {
        var path = Split(normalizedPath);
        for (var i = 0; i < _patterns.Length; i++)
        {
            if (Matches(_patterns[i], 0, path, 0))
            {
                return Patterns[i];
            }
        }

        return null;
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

    private static string[] Split(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(s => s.TrimEnd('.')).ToArray();

    private static bool Matches(string[] pattern, int p, string[] path, int s)
    {
        for (; p < pattern.Length; p++, s++)
        {
            if (pattern[p] == "**")
            {
                for (var rest = s; rest <= path.Length; rest++)
                {
                    if (Matches(pattern, p + 1, path, rest))
                    {
                        return true;
                    }
                }

                return false;
            }

            if (s >= path.Length || (pattern[p] != "*" && !string.Equals(pattern[p], path[s], StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }
        }

        return s == path.Length;
    }
}
