namespace Gatehouse.Policies.Transcoding;

/// <summary>
/// A compiled <c>google.api.http</c> path template (google/api/http.proto grammar):
/// <c>Template = "/" Segments [ ":" Verb ]</c>, segments being literals, <c>*</c> (one segment), <c>**</c> (the rest)
/// or variables <c>{field.path}</c> / <c>{field.path=Segments}</c>. Hand-written because no .NET library exposes
/// one outside ASP.NET Core's in-process JSON transcoding, which cannot serve a gateway.
/// </summary>
internal sealed class PathTemplate
{
    private PathTemplate(string text, Segment[] segments, Variable[] variables, string? verb)
    {
        Text = text;
        Segments = segments;
        Variables = variables;
        Verb = verb;
        LiteralCount = segments.Count(s => s.Kind == SegmentKind.Literal);
    }

    public string Text { get; }

    public Segment[] Segments { get; }

    public Variable[] Variables { get; }

    /// <summary>The custom verb after the last ':' (<c>/v1/shelves/{shelf}:archive</c>), or null.</summary>
    public string? Verb { get; }

    /// <summary>More literal segments is more specific: <c>/v1/shelves/{s}/books</c> before <c>/v1/{name=**}</c>.</summary>
    public int LiteralCount { get; }

    public bool EndsWithDoubleWildcard => Segments.Length > 0 && Segments[^1].Kind == SegmentKind.DoubleWildcard;

    internal enum SegmentKind
    {
        Literal,
        Wildcard,
        DoubleWildcard,
    }

    internal readonly record struct Segment(SegmentKind Kind, string? Literal);

    /// <summary>A variable bound to segments [Start, End) of the template; End is -1 for one that ends with <c>**</c>.</summary>
    internal sealed record Variable(string[] FieldPath, int Start, int End)
    {
        public string Name => string.Join('.', FieldPath);
    }

    public static bool TryParse(string text, out PathTemplate? template, out string? error)
    {
        template = null;
        error = null;
        if (!text.StartsWith('/'))
        {
            error = "must start with '/'";
            return false;
        }

        // The verb is after the last ':' that is not inside a variable.
        string? verb = null;
        var body = text;
        var depth = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '{')
            {
                depth++;
            }
            else if (text[i] == '}')
            {
                depth--;
            }
            else if (text[i] == ':' && depth == 0)
            {
                verb = text[(i + 1)..];
                body = text[..i];
                if (verb.Length == 0 || verb.Contains('/', StringComparison.Ordinal))
                {
                    error = "has an empty or malformed ':verb'";
                    return false;
                }

                break;
            }
        }

        var segments = new List<Segment>();
        var variables = new List<Variable>();
        var position = 1;
        while (position <= body.Length)
        {
            if (position < body.Length && body[position] == '{')
            {
                var close = body.IndexOf('}', position);
                if (close < 0)
                {
                    error = "has a '{' without '}'";
                    return false;
                }

                var inner = body[(position + 1)..close];
                var equals = inner.IndexOf('=', StringComparison.Ordinal);
                var fieldPath = (equals < 0 ? inner : inner[..equals]).Split('.');
                if (fieldPath.Any(p => p.Length == 0 || !p.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')))
                {
                    error = $"has a malformed variable '{{{inner}}}'";
                    return false;
                }

                var start = segments.Count;
                var pattern = equals < 0 ? "*" : inner[(equals + 1)..];
                foreach (var part in pattern.Split('/'))
                {
                    if (!TryAddSegment(part, segments, out error, insideVariable: true))
                    {
                        return false;
                    }
                }

                variables.Add(new Variable(fieldPath, start, segments[^1].Kind == SegmentKind.DoubleWildcard ? -1 : segments.Count));
                position = close + 1;
                if (position < body.Length && body[position] != '/')
                {
                    error = "has text right after a variable's '}'";
                    return false;
                }

                position++;
                continue;
            }

            var slash = body.IndexOf('/', position);
            var segment = slash < 0 ? body[position..] : body[position..slash];
            if (!TryAddSegment(segment, segments, out error, insideVariable: false))
            {
                return false;
            }

            position = slash < 0 ? body.Length + 1 : slash + 1;
        }

        for (var i = 0; i < segments.Count - 1; i++)
        {
            if (segments[i].Kind == SegmentKind.DoubleWildcard)
            {
                error = "has '**' before the last segment; it must come last";
                return false;
            }
        }

        if (variables.GroupBy(v => v.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            error = $"binds '{twice.Key}' twice";
            return false;
        }

        template = new PathTemplate(text, segments.ToArray(), variables.ToArray(), verb);
        return true;
    }

    private static bool TryAddSegment(string part, List<Segment> segments, out string? error, bool insideVariable)
    {
        error = null;
        switch (part)
        {
            case "":
                error = "has an empty segment";
                return false;
            case "*":
                segments.Add(new Segment(SegmentKind.Wildcard, null));
                return true;
            case "**":
                segments.Add(new Segment(SegmentKind.DoubleWildcard, null));
                return true;
            default:
                if (part.AsSpan().IndexOfAny("{}=*") >= 0 || (!insideVariable && part.Contains(':', StringComparison.Ordinal)))
                {
                    error = $"has a malformed segment '{part}'";
                    return false;
                }

                segments.Add(new Segment(SegmentKind.Literal, part));
                return true;
        }
    }

    /// <summary>
    /// Matches the request path that routing matched (<c>Request.Path</c> after <c>PathNormalizationMiddleware</c>:
    /// percent-decoded once by Kestrel, dot segments resolved, <c>%2F</c>, <c>%5C</c> and <c>\</c> already
    /// separators), so the binding, route auth and deny lists judge one path (security review H1). Never the raw
    /// target: its encoded slashes and dot segments would pick a binding other than the one the route admits.
    /// </summary>
    public bool TryMatch(ReadOnlySpan<char> path, Span<Range> segmentRanges, out int segmentCount)
    {
        segmentCount = 0;
        if (path.Length == 0 || path[0] != '/')
        {
            return false;
        }

        if (Verb is not null)
        {
            if (path.Length < Verb.Length + 2 || path[^(Verb.Length + 1)] != ':' || !path[^Verb.Length..].SequenceEqual(Verb))
            {
                return false;
            }

            path = path[..^(Verb.Length + 1)];
        }

        // Split into segments; the caller's buffer bounds how many (paths longer than that do not match).
        var count = 0;
        var start = 1;
        for (var i = 1; i <= path.Length; i++)
        {
            if (i == path.Length || path[i] == '/')
            {
                if (count == segmentRanges.Length)
                {
                    return false;
                }

                segmentRanges[count++] = new Range(start, i);
                start = i + 1;
            }
        }

        segmentCount = count;
        if (EndsWithDoubleWildcard ? count < Segments.Length - 1 : count != Segments.Length)
        {
            return false;
        }

        for (var i = 0; i < Segments.Length; i++)
        {
            var segment = Segments[i];
            if (segment.Kind == SegmentKind.DoubleWildcard)
            {
                return true;
            }

            var (offset, length) = segmentRanges[i].GetOffsetAndLength(path.Length);
            if (length == 0 || (segment.Kind == SegmentKind.Literal && !path.Slice(offset, length).SequenceEqual(segment.Literal)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The value of <paramref name="variable"/> after a successful <see cref="TryMatch"/>: the matched segments as
    /// they are, joined by '/' for multi-segment variables. Not decoded again: the path is decoded once already, and
    /// a second decoding would turn a sent <c>%252e%252e</c> into a <c>..</c> that no earlier stage saw.
    /// </summary>
    public static string ValueOf(Variable variable, ReadOnlySpan<char> path, ReadOnlySpan<Range> segments, int segmentCount)
    {
        var end = variable.End < 0 ? segmentCount : variable.End;
        if (end <= variable.Start)
        {
            return "";
        }

        var first = segments[variable.Start].GetOffsetAndLength(path.Length).Offset;
        var (lastOffset, lastLength) = segments[end - 1].GetOffsetAndLength(path.Length);
        return path[first..(lastOffset + lastLength)].ToString();
    }

    /// <summary>
    /// Why a matched path must not be bound, or null (the common case: two vectorised scans). A <c>.</c> or
    /// <c>..</c> segment, in a single-segment variable or a <c>**</c> capture, would reach the backend as a
    /// traversal that routing and the deny lists never saw; a <c>\</c> is a separator to Windows backends. Neither
    /// survives <c>PathNormalizationMiddleware</c>: this matters only should a path ever reach the stage unnormalised.
    /// A '/' inside a single-segment variable cannot occur: the path is split at every '/', decoded ones included.
    /// </summary>
    public static string? Refusal(ReadOnlySpan<char> path, ReadOnlySpan<Range> segments, int segmentCount)
    {
        if (path.Contains('\\'))
        {
            return "the path contains a backslash";
        }

        if (!path.Contains("/.", StringComparison.Ordinal))
        {
            return null;
        }

        for (var i = 0; i < segmentCount; i++)
        {
            if (path[segments[i]] is "." or "..")
            {
                return "the path contains a '.' or '..' segment";
            }
        }

        return null;
    }
}
