using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Google.Protobuf.Reflection;

namespace Gatehouse.Policies.Transcoding;

/// <summary>
/// A route's compiled REST → gRPC mapping: the service's bindings by HTTP method, and the limits that apply.
/// Immutable; shared by every request on the route's snapshot.
/// </summary>
internal sealed class GrpcTranscoder
{
    /// <summary>Largest path split into segments; longer paths match no binding.</summary>
    public const int MaxSegments = 64;

    private readonly Dictionary<string, HttpBinding[]> _byMethod;

    public GrpcTranscoder(GrpcDescriptorSet descriptors, TimeSpan? timeout, int maxMessageBytes, bool ignoreUnknownFields = false)
    {
        Descriptors = descriptors;
        RequestJson = ignoreUnknownFields ? descriptors.JsonIgnoringUnknownFields : descriptors.Json;
        _byMethod = descriptors.Bindings.GroupBy(b => b.HttpMethod, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.OrdinalIgnoreCase);
        GrpcTimeout = timeout is { } t ? FormatTimeout(t) : null;
        MaxMessageBytes = maxMessageBytes;
    }

    public GrpcDescriptorSet Descriptors { get; }

    /// <summary>Codec settings for requests (unknown fields refused or skipped, as configured).</summary>
    public ProtoJsonOptions RequestJson { get; }

    /// <summary><c>grpc-timeout</c> sent to the backend (the route's response timeout), or null.</summary>
    public string? GrpcTimeout { get; }

    /// <summary>Largest gRPC message accepted from the backend (as gRPC's default receive limit, 4 MB unless the route's body limit is larger).</summary>
    public int MaxMessageBytes { get; }

    /// <summary>The binding for a request's normalised path (the one routing matched), or null; <paramref name="pathExists"/> tells 405 from 404.</summary>
    public HttpBinding? Match(string method, ReadOnlySpan<char> path, Span<Range> segments, out int segmentCount, out bool pathExists)
    {
        pathExists = false;
        segmentCount = 0;
        if (_byMethod.TryGetValue(method, out var bindings))
        {
            foreach (var binding in bindings)
            {
                if (binding.Template.TryMatch(path, segments, out segmentCount))
                {
                    return binding;
                }
            }
        }

        foreach (var (_, others) in _byMethod)
        {
            foreach (var binding in others)
            {
                if (binding.Template.TryMatch(path, segments, out _))
                {
                    pathExists = true;
                    return null;
                }
            }
        }

        return null;
    }

    /// <summary>gRPC's TimeoutValue is at most 8 digits; the unit is chosen so the value fits.</summary>
    private static string FormatTimeout(TimeSpan timeout)
    {
        var ms = (long)Math.Ceiling(timeout.TotalMilliseconds);
        return ms < 100_000_000 ? ms.ToString(CultureInfo.InvariantCulture) + "m" : ((long)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "S";
    }

    /// <summary>
    /// Writes the gRPC request message for a matched binding: the JSON body (whole or one field), then query
    /// parameters (only when the body is not <c>*</c>), then path variables last, so on the wire they win over the
    /// same fields in the body (protobuf keeps the last value of a field; nested messages merge).
    /// </summary>
    public static void WriteRequest(HttpBinding binding, ReadOnlySpan<byte> body, ReadOnlySpan<char> path, ReadOnlySpan<Range> segments, int segmentCount, Microsoft.AspNetCore.Http.IQueryCollection query, ProtoWireWriter writer, ProtoJsonOptions options)
    {
        if (binding.BodyIsWholeRequest || binding.BodyField is not null)
        {
            if (body.Length > 0)
            {
                var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = (options.MaxDepth * 2) + 8 });
                reader.Read();
                if (binding.BodyField is { } field)
                {
                    if (reader.TokenType != JsonTokenType.Null)
                    {
                        ProtoJsonParser.ParseField(ref reader, field, writer, options, 0);
                    }
                }
                else
                {
                    ProtoJsonParser.ParseMessage(ref reader, binding.Method.InputType, writer, options);
                }

                if (reader.Read())
                {
                    throw new TranscodingException("the request body has more after its JSON value");
                }
            }
        }

        if (!binding.BodyIsWholeRequest)
        {
            foreach (var (name, values) in query)
            {
                var fields = ResolveQueryField(binding.Method.InputType, name);
                if (fields is null || fields[^1].IsMap || (fields[^1].FieldType is FieldType.Message && ProtoJsonInfo.For(fields[^1].MessageType).WellKnown is WellKnownType.None or WellKnownType.Struct or WellKnownType.ListValue or WellKnownType.Any or WellKnownType.Empty))
                {
                    if (options.IgnoreUnknownFields)
                    {
                        continue;
                    }

                    throw new TranscodingException($"query parameter '{name}' is not a field of {binding.Method.InputType.FullName}");
                }

                if (!fields[^1].IsRepeated && values.Count > 1)
                {
                    throw new TranscodingException($"query parameter '{name}' is given more than once but is not repeated");
                }

                if (IsBoundByPath(binding, fields))
                {
                    continue;
                }

                WriteTextValues(fields, values, writer, options);
            }
        }

        for (var i = 0; i < binding.PathFields.Length; i++)
        {
            var value = PathTemplate.ValueOf(binding.Template.Variables[i], path, segments, segmentCount);
            WriteTextValues(binding.PathFields[i], new Microsoft.Extensions.Primitives.StringValues(value), writer, options);
        }
    }

    /// <summary>A query parameter names a field by its JSON or proto name, dotted through singular messages.</summary>
    private static FieldDescriptor[]? ResolveQueryField(MessageDescriptor message, string name)
    {
        var parts = name.Split('.');
        var fields = new FieldDescriptor[parts.Length];
        var current = message;
        for (var i = 0; i < parts.Length; i++)
        {
            if (current is null || ProtoJsonInfo.For(current).Find(parts[i]) is not { } field)
            {
                return null;
            }

            fields[i] = field;
            current = i < parts.Length - 1 && !field.IsRepeated && field.FieldType == FieldType.Message ? field.MessageType : null;
        }

        return fields;
    }

    private static bool IsBoundByPath(HttpBinding binding, FieldDescriptor[] fields)
    {
        foreach (var bound in binding.PathFields)
        {
            if (bound.AsSpan().SequenceEqual(fields))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Text from a URL (path or query) into the field at the end of <paramref name="path"/>, nesting messages on the way.</summary>
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_textJson;

    [ThreadStatic]
    private static Utf8JsonWriter? t_textJsonWriter;

    private static void WriteTextValues(FieldDescriptor[] path, Microsoft.Extensions.Primitives.StringValues values, ProtoWireWriter writer, ProtoJsonOptions options)
    {
        Span<int> starts = stackalloc int[path.Length];
        for (var i = 0; i < path.Length - 1; i++)
        {
            writer.WriteTag(path[i].FieldNumber, WireType.LengthDelimited);
            starts[i] = writer.BeginLengthDelimited();
        }

        var leaf = path[^1];
        var isBool = leaf.FieldType == FieldType.Bool || (leaf.FieldType == FieldType.Message && leaf.MessageType.FullName == "google.protobuf.BoolValue");
        // Proto3 JSON takes an enum as its name or its number; in a URL both are text, so digits are the number.
        var isEnum = leaf.FieldType == FieldType.Enum;
        // The values go through the JSON parser (one set of conversion rules for bodies, paths and queries) by way of
        // a small JSON text; its buffer and writer are kept per thread (this method never awaits) rather than made per value.
        var json = t_textJson ??= new ArrayBufferWriter<byte>(256);
        json.ResetWrittenCount();
        var jsonWriter = t_textJsonWriter ??= new Utf8JsonWriter(json);
        jsonWriter.Reset(json);
        {
            if (leaf.IsRepeated)
            {
                jsonWriter.WriteStartArray();
            }

            foreach (var value in values)
            {
                if (isBool && value is "true" or "false")
                {
                    jsonWriter.WriteBooleanValue(value == "true");
                }
                else if (isEnum && int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                {
                    jsonWriter.WriteNumberValue(number);
                }
                else
                {
                    jsonWriter.WriteStringValue(value);
                }
            }

            if (leaf.IsRepeated)
            {
                jsonWriter.WriteEndArray();
            }

            jsonWriter.Flush();
        }

        var reader = new Utf8JsonReader(json.WrittenSpan);
        reader.Read();
        ProtoJsonParser.ParseField(ref reader, leaf, writer, options, 0);
        for (var i = path.Length - 2; i >= 0; i--)
        {
            writer.EndLengthDelimited(starts[i]);
        }
    }

}
