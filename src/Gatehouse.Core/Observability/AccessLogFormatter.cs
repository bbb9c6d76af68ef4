using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Gatehouse.Observability;

/// <summary>
/// One access log line in Elastic Common Schema field names, as nested JSON objects (the shape Elasticsearch stores,
/// which Filebeat's <c>ndjson</c> parser and Logstash's <c>json_lines</c> codec take as is). Only the fields below are
/// ever written: no request or response header but <c>User-Agent</c>, so <c>Authorization</c>, API keys, cookies and
/// the config's secrets cannot appear; query parameters that carry credentials are written as <c>REDACTED</c>.
/// Not thread-safe: each thread formats with its own.
/// </summary>
/// <remarks>
/// Written byte by byte rather than with <see cref="Utf8JsonWriter"/>, which it replaced: the shape is fixed, so the
/// punctuation and names between two values are one literal, and the values are plain ASCII almost always. This runs
/// for every request on the request's thread; the writer's per-property bookkeeping was measurable there
/// (bench/observability.sh). Values that need escaping go through <see cref="JsonEncodedText"/> with the same relaxed
/// encoder as before: quotes, backslashes and control characters escaped (a line can never be split or broken), '&amp;'
/// or '&lt;' not (log shippers read this, no HTML page does). Covered by tests that parse every line back.
/// </remarks>
internal sealed class AccessLogFormatter
{
    public const string EcsVersion = "8.11.0";
    public const string Redacted = "REDACTED";

    /// <summary>Longest path, query or user agent written, in characters: a line's size must not be the client's choice.</summary>
    internal const int MaxFieldChars = 2048;

    // Characters written as they are: printable ASCII but the two JSON escapes. Anything else takes the slow path.
    private static readonly SearchValues<char> Plain = SearchValues.Create(
        " !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    private static readonly double NanosecondsPerTick = 1_000_000_000.0 / Stopwatch.Frequency;

    private readonly string[] _redacted;
    private readonly StringBuilder _query = new();

    public AccessLogFormatter(IReadOnlyList<string> redactedQueryParameters) => _redacted = [.. redactedQueryParameters];

    public void Write(GatewayRequestTelemetry t, IBufferWriter<byte> output)
    {
        var path = Cap(t.Path);
        var query = t.Query is { Length: > 1 } q ? RedactQuery(Cap(q.AsSpan(1))) : default; // ECS url.query has no leading '?'
        var userAgent = Cap(t.UserAgent);

        // Each character takes at most 6 bytes escaped (\uXXXX); the literals, numbers and short names fit in the rest.
        var longest = path.Length + query.Length + userAgent.Length + Length(t.RequestId) + Length(t.RouteName) + Length(t.Service)
            + Length(t.Target) + Length(t.Consumer) + Length(t.Method) + Length(t.RateLimitDecision) + Length(t.CacheStatus);
        var line = new Line(output.GetSpan(1024 + (6 * longest)));

        line.Raw("{\"@timestamp\":\""u8);
        line.Timestamp(t.StartTime);
        line.Raw("\",\"ecs\":{\"version\":\"8.11.0\"},\"event\":{\"dataset\":\"gatehouse.access\",\"duration\":"u8);
        line.Number((long)(t.DurationTicks * NanosecondsPerTick));
        line.Raw(t.StatusCode >= 400 ? ",\"outcome\":\"failure\"},\"http\":{\"request\":{\"method\":"u8 : ",\"outcome\":\"success\"},\"http\":{\"request\":{\"method\":"u8);
        line.String(t.Method);
        if (t.RequestId is { } requestId)
        {
            line.Raw(",\"id\":"u8);
            line.String(requestId);
        }

        if (t.RequestBodyBytes is { } requestBytes)
        {
            line.Raw(",\"body\":{\"bytes\":"u8);
            line.Number(requestBytes);
            line.Raw("}"u8);
        }

        line.Raw("},\"response\":{\"status_code\":"u8);
        line.Number(t.StatusCode);
        if (t.ResponseBodyBytes is { } responseBytes)
        {
            line.Raw(",\"body\":{\"bytes\":"u8);
            line.Number(responseBytes);
            line.Raw("}"u8);
        }

        line.Raw("}},\"url\":{\"path\":"u8);
        line.String(path);
        if (!query.IsEmpty)
        {
            line.Raw(",\"query\":"u8);
            line.String(query);
        }

        line.Raw("}"u8);
        if (t.ClientAddress is { } address)
        {
            line.Raw(",\"client\":{\"ip\":\""u8);
            line.Formatted(address);
            line.Raw("\"}"u8);
        }

        if (t.UserAgent is not null)
        {
            line.Raw(",\"user_agent\":{\"original\":"u8);
            line.String(userAgent);
            line.Raw("}"u8);
        }

        if (t.Trace.IsSet)
        {
            Span<char> id = stackalloc char[TraceContext.TraceIdLength];
            t.Trace.FormatTraceId(id);
            line.Raw(",\"trace\":{\"id\":"u8);
            line.String(id);
            t.Trace.FormatSpanId(id);
            line.Raw("},\"span\":{\"id\":"u8);
            line.String(id[..TraceContext.SpanIdLength]);
            line.Raw("}"u8);
        }

        line.Raw(",\"gatehouse\":{"u8);
        if (t.RouteName is { } route)
        {
            line.Raw("\"route\":"u8);
            line.String(route);
            line.Raw(",\"service\":"u8);
            line.String(t.Service);
            line.Raw(","u8);
        }

        if (t.Target is { } target)
        {
            line.Raw("\"target\":"u8);
            line.String(target);
            line.Raw(",\"upstream_duration\":"u8);
            line.Number((long)(t.UpstreamTicks * NanosecondsPerTick));
            line.Raw(","u8);
            if (t.UpstreamStatus > 0)
            {
                line.Raw("\"upstream_status_code\":"u8);
                line.Number(t.UpstreamStatus);
                line.Raw(","u8);
            }
        }

        line.OptionalField("\"consumer\":"u8, t.Consumer);
        line.OptionalField("\"rate_limit\":"u8, t.RateLimitDecision);
        line.OptionalField("\"cache\":"u8, t.CacheStatus);
        line.OptionalField("\"error_type\":"u8, t.Error?.Slug);
        line.Raw("\"retries\":"u8);
        line.Number(t.Retries);
        line.Raw("}}\n"u8);
        output.Advance(line.Length);
    }

    private static int Length(string? value) => value?.Length ?? 0;

    private static ReadOnlySpan<char> Cap(string? value) => Cap(value.AsSpan());

    private static ReadOnlySpan<char> Cap(ReadOnlySpan<char> value) =>
        value.Length <= MaxFieldChars ? value
        : char.IsHighSurrogate(value[MaxFieldChars - 1]) ? value[..(MaxFieldChars - 1)]
        : value[..MaxFieldChars];

    private ReadOnlySpan<char> RedactQuery(ReadOnlySpan<char> query)
    {
        if (!NeedsRedaction(query))
        {
            return query;
        }

        var builder = _query.Clear();
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            if (builder.Length > 0)
            {
                builder.Append('&');
            }

            var equals = pair.IndexOf('=');
            var name = equals < 0 ? pair : pair[..equals];
            if (equals >= 0 && IsRedacted(name))
            {
                builder.Append(name).Append('=').Append(Redacted);
            }
            else
            {
                builder.Append(pair);
            }
        }

        return builder.ToString();
    }

    private bool NeedsRedaction(ReadOnlySpan<char> query)
    {
        if (query.Contains('%'))
        {
            return true;
        }

        foreach (var name in _redacted)
        {
            if (query.Contains(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsRedacted(ReadOnlySpan<char> name)
    {
        // Names may arrive percent-encoded; decode before comparing, so api%5Fkey cannot slip through.
        var decoded = name.Contains('%') || name.Contains('+') ? Uri.UnescapeDataString(name.ToString()).AsSpan() : name;
        foreach (var redacted in _redacted)
        {
            if (decoded.Equals(redacted, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Writes into a span sized for the whole line (see the bound in <see cref="Write"/>).</summary>
    private ref struct Line(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;

        public int Length { get; private set; }

        public void Raw(scoped ReadOnlySpan<byte> utf8)
        {
            utf8.CopyTo(_buffer[Length..]);
            Length += utf8.Length;
        }

        public void Number(long value)
        {
            value.TryFormat(_buffer[Length..], out var written, default, CultureInfo.InvariantCulture);
            Length += written;
        }

        public void Formatted<T>(T value)
            where T : IUtf8SpanFormattable
        {
            value.TryFormat(_buffer[Length..], out var written, default, CultureInfo.InvariantCulture);
            Length += written;
        }

        /// <summary>ISO 8601 as Utf8JsonWriter wrote it before: the fraction of a second without its trailing zeros.</summary>
        public void Timestamp(DateTime time)
        {
            var text = _buffer[Length..];
            time.TryFormat(text, out var written, "O", CultureInfo.InvariantCulture);
            if (written == 28 && text[19] == '.' && text[27] == 'Z')
            {
                var end = 27;
                while (end > 20 && text[end - 1] == '0')
                {
                    end--;
                }

                end = end == 20 ? 19 : end;
                text[end] = (byte)'Z';
                written = end + 1;
            }

            Length += written;
        }

        /// <summary><c>"name":"value",</c> inside the <c>gatehouse</c> object, or nothing when <paramref name="value"/> is null.</summary>
        public void OptionalField(scoped ReadOnlySpan<byte> nameAndColon, string? value)
        {
            if (value is not null)
            {
                Raw(nameAndColon);
                String(value.AsSpan());
                Raw(","u8);
            }
        }

        public void String(string? value)
        {
            if (value is null)
            {
                Raw("null"u8);
            }
            else
            {
                String(value.AsSpan());
            }
        }

        public void String(scoped ReadOnlySpan<char> value)
        {
            _buffer[Length++] = (byte)'"';
            if (!value.ContainsAnyExcept(Plain))
            {
                System.Text.Ascii.FromUtf16(value, _buffer[Length..], out var written);
                Length += written;
            }
            else
            {
                // Rare: non-ASCII, quotes, backslashes or control characters. Throws ArgumentException for text that
                // is not valid UTF-16 (a lone surrogate); the writer then skips the line.
                var encoded = JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).EncodedUtf8Bytes;
                encoded.CopyTo(_buffer[Length..]);
                Length += encoded.Length;
            }

            _buffer[Length++] = (byte)'"';
        }
    }
}
