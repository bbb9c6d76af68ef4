using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Observability;

/// <summary>
/// One access log line in Elastic Common Schema field names, as nested JSON objects (the shape Elasticsearch stores,
/// which Filebeat's <c>ndjson</c> parser and Logstash's <c>json_lines</c> codec take as is). Only the fields below are
/// ever written: no request or response header but <c>User-Agent</c>, so <c>Authorization</c>, API keys, cookies and
/// the config's secrets cannot appear; query parameters that carry credentials are written as <c>REDACTED</c>.
/// Runs on the writer's task only (not thread-safe).
/// </summary>
internal sealed class AccessLogFormatter : IDisposable
{
    public const string EcsVersion = "8.11.0";
    public const string Redacted = "REDACTED";

    private static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode("@timestamp");
    private static readonly JsonEncodedText Ecs = JsonEncodedText.Encode("ecs");
    private static readonly JsonEncodedText Version = JsonEncodedText.Encode("version");
    private static readonly JsonEncodedText EcsVersionValue = JsonEncodedText.Encode(EcsVersion);
    private static readonly JsonEncodedText Event = JsonEncodedText.Encode("event");
    private static readonly JsonEncodedText Dataset = JsonEncodedText.Encode("dataset");
    private static readonly JsonEncodedText DatasetValue = JsonEncodedText.Encode("gatehouse.access");
    private static readonly JsonEncodedText Duration = JsonEncodedText.Encode("duration");
    private static readonly JsonEncodedText Outcome = JsonEncodedText.Encode("outcome");
    private static readonly JsonEncodedText Success = JsonEncodedText.Encode("success");
    private static readonly JsonEncodedText Failure = JsonEncodedText.Encode("failure");
    private static readonly JsonEncodedText Http = JsonEncodedText.Encode("http");
    private static readonly JsonEncodedText Request = JsonEncodedText.Encode("request");
    private static readonly JsonEncodedText Response = JsonEncodedText.Encode("response");
    private static readonly JsonEncodedText Method = JsonEncodedText.Encode("method");
    private static readonly JsonEncodedText StatusCode = JsonEncodedText.Encode("status_code");
    private static readonly JsonEncodedText Body = JsonEncodedText.Encode("body");
    private static readonly JsonEncodedText Bytes = JsonEncodedText.Encode("bytes");
    private static readonly JsonEncodedText Id = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText Url = JsonEncodedText.Encode("url");
    private static readonly JsonEncodedText PathName = JsonEncodedText.Encode("path");
    private static readonly JsonEncodedText QueryName = JsonEncodedText.Encode("query");
    private static readonly JsonEncodedText Client = JsonEncodedText.Encode("client");
    private static readonly JsonEncodedText Ip = JsonEncodedText.Encode("ip");
    private static readonly JsonEncodedText UserAgent = JsonEncodedText.Encode("user_agent");
    private static readonly JsonEncodedText Original = JsonEncodedText.Encode("original");
    private static readonly JsonEncodedText Trace = JsonEncodedText.Encode("trace");
    private static readonly JsonEncodedText Span = JsonEncodedText.Encode("span");
    private static readonly JsonEncodedText Gatehouse = JsonEncodedText.Encode("gatehouse");
    private static readonly JsonEncodedText Route = JsonEncodedText.Encode("route");
    private static readonly JsonEncodedText Service = JsonEncodedText.Encode("service");
    private static readonly JsonEncodedText Target = JsonEncodedText.Encode("target");
    private static readonly JsonEncodedText UpstreamDuration = JsonEncodedText.Encode("upstream_duration");
    private static readonly JsonEncodedText UpstreamStatus = JsonEncodedText.Encode("upstream_status_code");
    private static readonly JsonEncodedText Consumer = JsonEncodedText.Encode("consumer");
    private static readonly JsonEncodedText RateLimit = JsonEncodedText.Encode("rate_limit");
    private static readonly JsonEncodedText Cache = JsonEncodedText.Encode("cache");
    private static readonly JsonEncodedText ErrorType = JsonEncodedText.Encode("error_type");
    private static readonly JsonEncodedText Retries = JsonEncodedText.Encode("retries");

    /// <summary>Longest path, query or user agent written, in characters: a line's size must not be the client's choice.</summary>
    internal const int MaxFieldChars = 2048;

    private static readonly double NanosecondsPerTick = 1_000_000_000.0 / Stopwatch.Frequency;

    private readonly string[] _redacted;
    // Relaxed escaping: the line is read by log shippers, never embedded in HTML, so '&' or '<' need no \u escapes;
    // quotes, backslashes and control characters are still escaped (a line can never be split or broken).
    // The shape is fixed by this class and covered by tests, so the writer's structural checks are skipped.
    private readonly Utf8JsonWriter _json = new(Stream.Null, new JsonWriterOptions
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    });
    private readonly StringBuilder _query = new();

    public AccessLogFormatter(IReadOnlyList<string> redactedQueryParameters) => _redacted = [.. redactedQueryParameters];

    public void Dispose() => _json.Dispose();

    public void Write(GatewayRequestTelemetry t, IBufferWriter<byte> output)
    {
        var json = _json;
        json.Reset(output);
        json.WriteStartObject();
        json.WriteString(Timestamp, t.StartTime);
        json.WriteStartObject(Ecs);
        json.WriteString(Version, EcsVersionValue);
        json.WriteEndObject();

        json.WriteStartObject(Event);
        json.WriteString(Dataset, DatasetValue);
        json.WriteNumber(Duration, (long)(t.DurationTicks * NanosecondsPerTick));
        json.WriteString(Outcome, t.StatusCode >= 400 ? Failure : Success);
        json.WriteEndObject();

        json.WriteStartObject(Http);
        json.WriteStartObject(Request);
        json.WriteString(Method, t.Method);
        if (t.RequestId is { } requestId)
        {
            json.WriteString(Id, requestId);
        }

        if (t.RequestBodyBytes is { } requestBytes)
        {
            json.WriteStartObject(Body);
            json.WriteNumber(Bytes, requestBytes);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteStartObject(Response);
        json.WriteNumber(StatusCode, t.StatusCode);
        if (t.ResponseBodyBytes is { } responseBytes)
        {
            json.WriteStartObject(Body);
            json.WriteNumber(Bytes, responseBytes);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();

        json.WriteStartObject(Url);
        json.WriteString(PathName, Cap(t.Path));
        if (!string.IsNullOrEmpty(t.Query) && t.Query.Length > 1)
        {
            // ECS url.query has no leading '?'.
            WriteQuery(json, Cap(t.Query.AsSpan(1)));
        }

        json.WriteEndObject();

        if (t.ClientAddress is { } address)
        {
            Span<char> ip = stackalloc char[64];
            json.WriteStartObject(Client);
            if (address.TryFormat(ip, out var length))
            {
                json.WriteString(Ip, ip[..length]);
            }

            json.WriteEndObject();
        }

        if (t.UserAgent is { } userAgent)
        {
            json.WriteStartObject(UserAgent);
            json.WriteString(Original, Cap(userAgent.AsSpan()));
            json.WriteEndObject();
        }

        if (t.Trace.IsSet)
        {
            Span<char> id = stackalloc char[TraceContext.TraceIdLength];
            t.Trace.FormatTraceId(id);
            json.WriteStartObject(Trace);
            json.WriteString(Id, id);
            json.WriteEndObject();
            t.Trace.FormatSpanId(id);
            json.WriteStartObject(Span);
            json.WriteString(Id, id[..TraceContext.SpanIdLength]);
            json.WriteEndObject();
        }

        json.WriteStartObject(Gatehouse);
        if (t.RouteName is { } route)
        {
            json.WriteString(Route, route);
            json.WriteString(Service, t.Service);
        }

        if (t.Target is { } target)
        {
            json.WriteString(Target, target);
            json.WriteNumber(UpstreamDuration, (long)(t.UpstreamTicks * NanosecondsPerTick));
            if (t.UpstreamStatus > 0)
            {
                json.WriteNumber(UpstreamStatus, t.UpstreamStatus);
            }
        }

        if (t.Consumer is { } consumer)
        {
            json.WriteString(Consumer, consumer);
        }

        if (t.RateLimitDecision is { } decision)
        {
            json.WriteString(RateLimit, decision);
        }

        if (t.CacheStatus is { } cache)
        {
            json.WriteString(Cache, cache);
        }

        if (t.Error is { } error)
        {
            json.WriteString(ErrorType, error.Slug);
        }

        json.WriteNumber(Retries, t.Retries);

        json.WriteEndObject();
        json.WriteEndObject();
        json.Flush();
        output.GetSpan(1)[0] = (byte)'\n';
        output.Advance(1);
    }

    private static ReadOnlySpan<char> Cap(ReadOnlySpan<char> value) =>
        value.Length <= MaxFieldChars ? value
        : char.IsHighSurrogate(value[MaxFieldChars - 1]) ? value[..(MaxFieldChars - 1)]
        : value[..MaxFieldChars];

    private void WriteQuery(Utf8JsonWriter json, ReadOnlySpan<char> query)
    {
        if (!NeedsRedaction(query))
        {
            json.WriteString(QueryName, query);
            return;
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

        json.WriteString(QueryName, builder.ToString());
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
}
