using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Google.Protobuf.Reflection;

namespace Gatehouse.Policies.Transcoding;

/// <summary>
/// Proto3 JSON → protobuf wire format, driven by runtime descriptors (Google.Protobuf's JsonParser needs generated
/// types, and C# has no DynamicMessage). Single pass over <see cref="Utf8JsonReader"/> into a <see cref="ProtoWireWriter"/>.
/// Follows https://protobuf.dev/programming-guides/json/: 64-bit integers as strings or numbers, enums by name or
/// number, bytes as base64 (URL-safe accepted), well-known types in their special forms.
/// </summary>
internal static class ProtoJsonParser
{
    /// <summary>Parses one JSON value (the reader is on its first token) as <paramref name="message"/>.</summary>
    public static void ParseMessage(ref Utf8JsonReader reader, MessageDescriptor message, ProtoWireWriter writer, ProtoJsonOptions options, int depth = 0)
    {
        if (depth > options.MaxDepth)
        {
            throw new TranscodingException($"the JSON nests messages more than {options.MaxDepth} deep");
        }

        var info = ProtoJsonInfo.For(message);
        if (info.WellKnown != WellKnownType.None)
        {
            ParseWellKnown(ref reader, message, info.WellKnown, writer, options, depth);
            return;
        }

        ParseFields(ref reader, message, info, writer, options, depth, skipType: false);
    }

    private static void ParseFields(ref Utf8JsonReader reader, MessageDescriptor message, ProtoJsonInfo info, ProtoWireWriter writer, ProtoJsonOptions options, int depth, bool skipType)
    {
        Expect(ref reader, JsonTokenType.StartObject, message.FullName);
        Span<int> oneofSeen = stackalloc int[Math.Min(message.Oneofs.Count, 64)];
        Span<char> nameBuffer = stackalloc char[128];
        while (true)
        {
            Read(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                return;
            }

            var nameLength = PropertyName(ref reader, nameBuffer);
            var name = nameLength >= 0 ? nameBuffer[..nameLength] : reader.GetString().AsSpan();
            if (skipType && name.SequenceEqual("@type"))
            {
                Read(ref reader);
                reader.Skip();
                continue;
            }

            var field = info.Find(name);
            if (field is null)
            {
                if (!options.IgnoreUnknownFields)
                {
                    throw new TranscodingException($"unknown field '{name}' in {message.FullName}");
                }

                Read(ref reader);
                reader.Skip();
                continue;
            }

            Read(ref reader);
            if (reader.TokenType == JsonTokenType.Null && !AcceptsNull(field))
            {
                continue;
            }

            if (field.RealContainingOneof is { } oneof && oneof.Index < oneofSeen.Length)
            {
                if (oneofSeen[oneof.Index] != 0)
                {
                    throw new TranscodingException($"more than one field of oneof '{oneof.Name}' in {message.FullName}");
                }

                oneofSeen[oneof.Index] = 1;
            }

            ParseField(ref reader, field, writer, options, depth);
        }
    }

    /// <summary>null means "default" except where null is a value: google.protobuf.Value and NullValue.</summary>
    private static bool AcceptsNull(FieldDescriptor field) =>
        !field.IsRepeated && ((field.FieldType == FieldType.Message && field.MessageType.FullName == "google.protobuf.Value")
                              || (field.FieldType == FieldType.Enum && field.EnumType.FullName == "google.protobuf.NullValue"));

    /// <summary>Parses the value of <paramref name="field"/> (the reader is on it) and writes it with its tag(s).</summary>
    internal static void ParseField(ref Utf8JsonReader reader, FieldDescriptor field, ProtoWireWriter writer, ProtoJsonOptions options, int depth)
    {
        if (field.IsMap)
        {
            ParseMap(ref reader, field, writer, options, depth);
            return;
        }

        if (field.IsRepeated)
        {
            Expect(ref reader, JsonTokenType.StartArray, field.FullName);
            var packed = IsPackable(field.FieldType);
            var start = 0;
            if (packed)
            {
                writer.WriteTag(field.FieldNumber, WireType.LengthDelimited);
                start = writer.BeginLengthDelimited();
            }

            while (true)
            {
                Read(ref reader);
                if (reader.TokenType == JsonTokenType.EndArray)
                {
                    break;
                }

                if (reader.TokenType == JsonTokenType.Null && !(field.FieldType == FieldType.Message && field.MessageType.FullName == "google.protobuf.Value"))
                {
                    throw new TranscodingException($"null is not allowed in repeated field '{field.JsonName}'");
                }

                ParseValue(ref reader, field, writer, options, depth, writeTag: !packed);
            }

            if (packed)
            {
                writer.EndLengthDelimited(start);
            }

            return;
        }

        ParseValue(ref reader, field, writer, options, depth, writeTag: true);
    }

    private static bool IsPackable(FieldType type) => type is not (FieldType.String or FieldType.Bytes or FieldType.Message or FieldType.Group);

    private static void ParseMap(ref Utf8JsonReader reader, FieldDescriptor field, ProtoWireWriter writer, ProtoJsonOptions options, int depth)
    {
        Expect(ref reader, JsonTokenType.StartObject, field.FullName);
        var keyField = field.MessageType.FindFieldByNumber(1);
        var valueField = field.MessageType.FindFieldByNumber(2);
        while (true)
        {
            Read(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                return;
            }

            writer.WriteTag(field.FieldNumber, WireType.LengthDelimited);
            var start = writer.BeginLengthDelimited();
            var key = reader.GetString()!;
            WriteMapKey(key, keyField, writer);
            Read(ref reader);
            if (reader.TokenType == JsonTokenType.Null && !AcceptsNull(valueField))
            {
                throw new TranscodingException($"null is not allowed as a value of map field '{field.JsonName}'");
            }

            ParseValue(ref reader, valueField, writer, options, depth, writeTag: true);
            writer.EndLengthDelimited(start);
        }
    }

    private static void WriteMapKey(string key, FieldDescriptor keyField, ProtoWireWriter writer)
    {
        switch (keyField.FieldType)
        {
            case FieldType.String:
                writer.WriteTag(1, WireType.LengthDelimited);
                WriteString(key, writer);
                return;
            case FieldType.Bool:
                writer.WriteTag(1, WireType.Varint);
                writer.WriteVarint(key switch
                {
                    "true" => 1UL,
                    "false" => 0UL,
                    _ => throw new TranscodingException($"map key '{key}' is not true or false"),
                });
                return;
            default:
                WriteIntegerFromText(key, keyField, writer, writeTag: true);
                return;
        }
    }

    private static void ParseValue(ref Utf8JsonReader reader, FieldDescriptor field, ProtoWireWriter writer, ProtoJsonOptions options, int depth, bool writeTag)
    {
        var number = field.FieldNumber;
        switch (field.FieldType)
        {
            case FieldType.Double:
                if (writeTag)
                {
                    writer.WriteTag(number, WireType.Fixed64);
                }

                writer.WriteFixed64((ulong)BitConverter.DoubleToInt64Bits(ReadDouble(ref reader, field)));
                return;
            case FieldType.Float:
            {
                var value = ReadDouble(ref reader, field);
                if (double.IsFinite(value) && float.IsInfinity((float)value))
                {
                    throw new TranscodingException($"value {value.ToString(CultureInfo.InvariantCulture)} of '{field.JsonName}' is out of range for a float");
                }

                if (writeTag)
                {
                    writer.WriteTag(number, WireType.Fixed32);
                }

                writer.WriteFixed32((uint)BitConverter.SingleToInt32Bits((float)value));
                return;
            }

            case FieldType.Bool:
                if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                {
                    throw new TranscodingException($"field '{field.JsonName}' must be true or false");
                }

                if (writeTag)
                {
                    writer.WriteTag(number, WireType.Varint);
                }

                writer.WriteVarint(reader.TokenType == JsonTokenType.True ? 1UL : 0UL);
                return;
            case FieldType.String:
                if (reader.TokenType != JsonTokenType.String)
                {
                    throw new TranscodingException($"field '{field.JsonName}' must be a string");
                }

                if (writeTag)
                {
                    writer.WriteTag(number, WireType.LengthDelimited);
                }

                WriteJsonString(ref reader, writer);
                return;
            case FieldType.Bytes:
                if (reader.TokenType != JsonTokenType.String)
                {
                    throw new TranscodingException($"field '{field.JsonName}' must be a base64 string");
                }

                if (writeTag)
                {
                    writer.WriteTag(number, WireType.LengthDelimited);
                }

                WriteBase64(ref reader, field, writer);
                return;
            case FieldType.Enum:
                if (writeTag)
                {
                    writer.WriteTag(number, WireType.Varint);
                }

                writer.WriteVarint((ulong)(long)ReadEnum(ref reader, field.EnumType, field.JsonName, options));
                return;
            case FieldType.Message:
            case FieldType.Group:
                if (writeTag)
                {
                    writer.WriteTag(number, WireType.LengthDelimited);
                }

                var start = writer.BeginLengthDelimited();
                ParseMessage(ref reader, field.MessageType, writer, options, depth + 1);
                writer.EndLengthDelimited(start);
                return;
            default:
                string text;
                if (reader.TokenType == JsonTokenType.String)
                {
                    text = reader.GetString()!;
                }
                else if (reader.TokenType == JsonTokenType.Number)
                {
                    text = Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
                }
                else
                {
                    throw new TranscodingException($"field '{field.JsonName}' must be a number");
                }

                WriteIntegerFromText(text, field, writer, writeTag);
                return;
        }
    }

    /// <summary>Integers come as JSON numbers or strings, and may be written as 1e3 or 5.0 when the value is whole.</summary>
    private static void WriteIntegerFromText(string text, FieldDescriptor field, ProtoWireWriter writer, bool writeTag)
    {
        var type = field.FieldType;
        var unsigned = type is FieldType.UInt32 or FieldType.UInt64 or FieldType.Fixed32 or FieldType.Fixed64;
        long signedValue = 0;
        ulong unsignedValue = 0;
        bool ok;
        if (unsigned)
        {
            ok = ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out unsignedValue);
        }
        else
        {
            ok = long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out signedValue);
        }

        if (!ok && text.Length > 0 && !text.Contains(' ', StringComparison.Ordinal)
            && decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var whole) && whole == decimal.Truncate(whole))
        {
            if (unsigned && whole >= 0 && whole <= ulong.MaxValue)
            {
                unsignedValue = (ulong)whole;
                ok = true;
            }
            else if (!unsigned && whole >= long.MinValue && whole <= long.MaxValue)
            {
                signedValue = (long)whole;
                ok = true;
            }
        }

        var is32 = type is FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 or FieldType.UInt32 or FieldType.Fixed32;
        if (!ok || (is32 && (unsigned ? unsignedValue > uint.MaxValue : signedValue is < int.MinValue or > int.MaxValue)))
        {
            throw new TranscodingException($"'{text}' is not a valid {type.ToString().ToLowerInvariant()} for field '{field.JsonName}'");
        }

        var number = field.FieldNumber;
        switch (type)
        {
            case FieldType.Int32:
            case FieldType.Int64:
                if (writeTag)
                {
                    writer.WriteTag(number, WireType.Varint);
                }

                writer.WriteVarint((ulong)signedValue);
                break;
            case FieldType.UInt32:
            case FieldType.UInt64:
                if (writeTag)
                {
                    writer.WriteTag(number, WireType.Varint);
                }

                writer.WriteVarint(unsignedValue);
                break;
            case FieldType.SInt32:
                if (writeTag)
                {
                    writer.WriteTag(number, WireType.Varint);
                }

                writer.WriteVarint((uint)(((int)signedValue << 1) ^ ((int)signedValue >> 31)));
                break;
            case FieldType.SInt64:
                if (writeTag)
                {
                    writer.WriteTag(number, WireType.Varint);
                }

                writer.WriteVarint((ulong)((signedValue << 1) ^ (signedValue >> 63)));
                break;
            case FieldType.Fixed32:
                if (writeTag)
                {
                    writer.WriteTag(number, WireType.Fixed32);
                }

                writer.WriteFixed32((uint)unsignedValue);
                break;
            case FieldType.SFixed32:
                if (writeTag)
                {
                    writer.WriteTag(number, WireType.Fixed32);
                }

                writer.WriteFixed32((uint)(int)signedValue);
                break;
            case FieldType.Fixed64:
                if (writeTag)
                {
                    writer.WriteTag(number, WireType.Fixed64);
                }

                writer.WriteFixed64(unsignedValue);
                break;
            case FieldType.SFixed64:
                if (writeTag)
                {
                    writer.WriteTag(number, WireType.Fixed64);
                }

                writer.WriteFixed64((ulong)signedValue);
                break;
            default:
                throw new TranscodingException($"field '{field.JsonName}' has an unsupported type");
        }
    }

    private static double ReadDouble(ref Utf8JsonReader reader, FieldDescriptor field)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (reader.TryGetDouble(out var d) && double.IsFinite(d))
            {
                return d;
            }
        }
        else if (reader.TokenType == JsonTokenType.String)
        {
            var text = reader.GetString()!;
            switch (text)
            {
                case "NaN":
                    return double.NaN;
                case "Infinity":
                    return double.PositiveInfinity;
                case "-Infinity":
                    return double.NegativeInfinity;
            }

            if (text.Length > 0 && text.Trim() == text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed))
            {
                return parsed;
            }
        }

        throw new TranscodingException($"field '{field.JsonName}' must be a number, \"NaN\", \"Infinity\" or \"-Infinity\"");
    }

    private static int ReadEnum(ref Utf8JsonReader reader, EnumDescriptor type, string fieldName, ProtoJsonOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number))
        {
            return number;
        }

        if (reader.TokenType == JsonTokenType.Null && type.FullName == "google.protobuf.NullValue")
        {
            return 0;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            var name = reader.GetString()!;
            if (type.FindValueByName(name) is { } value)
            {
                return value.Number;
            }

            throw new TranscodingException($"'{name}' is not a value of enum {type.FullName} (field '{fieldName}')");
        }

        throw new TranscodingException($"field '{fieldName}' must be an enum name or number");
    }

    private static void WriteJsonString(ref Utf8JsonReader reader, ProtoWireWriter writer)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            writer.WriteLengthDelimited(reader.ValueSpan);
            return;
        }

        var max = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var length = reader.CopyString(rented);
            writer.WriteLengthDelimited(rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void WriteString(string value, ProtoWireWriter writer)
    {
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var length = Encoding.UTF8.GetBytes(value, rented);
            writer.WriteLengthDelimited(rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Standard or URL-safe base64, padded or not, as the proto3 JSON spec asks parsers to accept.</summary>
    private static void WriteBase64(ref Utf8JsonReader reader, FieldDescriptor field, ProtoWireWriter writer)
    {
        var max = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        var rented = ArrayPool<byte>.Shared.Rent(max + 3);
        try
        {
            var length = reader.CopyString(rented);
            for (var i = 0; i < length; i++)
            {
                rented[i] = rented[i] switch
                {
                    (byte)'-' => (byte)'+',
                    (byte)'_' => (byte)'/',
                    var b => b,
                };
            }

            while (length % 4 != 0)
            {
                rented[length++] = (byte)'=';
            }

            var status = Base64.DecodeFromUtf8InPlace(rented.AsSpan(0, length), out var written);
            if (status != OperationStatus.Done)
            {
                throw new TranscodingException($"field '{field.JsonName}' is not valid base64");
            }

            writer.WriteLengthDelimited(rented.AsSpan(0, written));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void ParseWellKnown(ref Utf8JsonReader reader, MessageDescriptor message, WellKnownType kind, ProtoWireWriter writer, ProtoJsonOptions options, int depth)
    {
        switch (kind)
        {
            case WellKnownType.Timestamp:
            {
                RequireString(ref reader, message);
                var (seconds, nanos) = ProtoJsonTime.ParseTimestamp(reader.GetString()!);
                WriteSecondsNanos(seconds, nanos, writer);
                return;
            }

            case WellKnownType.Duration:
            {
                RequireString(ref reader, message);
                var (seconds, nanos) = ProtoJsonTime.ParseDuration(reader.GetString()!);
                WriteSecondsNanos(seconds, nanos, writer);
                return;
            }

            case WellKnownType.FieldMask:
                RequireString(ref reader, message);
                foreach (var path in reader.GetString()!.Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    writer.WriteTag(1, WireType.LengthDelimited);
                    WriteString(ProtoJsonTime.CamelToSnake(path.Trim()), writer);
                }

                return;
            case WellKnownType.Wrapper:
                ParseValue(ref reader, message.FindFieldByNumber(1), writer, options, depth, writeTag: true);
                return;
            case WellKnownType.Struct:
                ParseMap(ref reader, message.FindFieldByNumber(1), writer, options, depth);
                return;
            case WellKnownType.ListValue:
                ParseField(ref reader, message.FindFieldByNumber(1), writer, options, depth);
                return;
            case WellKnownType.Value:
                ParseStructValue(ref reader, message, writer, options, depth);
                return;
            case WellKnownType.Empty:
                Expect(ref reader, JsonTokenType.StartObject, message.FullName);
                Read(ref reader);
                if (reader.TokenType != JsonTokenType.EndObject)
                {
                    throw new TranscodingException("google.protobuf.Empty must be {}");
                }

                return;
            case WellKnownType.Any:
                ParseAny(ref reader, writer, options, depth);
                return;
        }
    }

    private static void ParseStructValue(ref Utf8JsonReader reader, MessageDescriptor value, ProtoWireWriter writer, ProtoJsonOptions options, int depth)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                writer.WriteTag(1, WireType.Varint);
                writer.WriteVarint(0);
                return;
            case JsonTokenType.Number:
                writer.WriteTag(2, WireType.Fixed64);
                writer.WriteFixed64((ulong)BitConverter.DoubleToInt64Bits(reader.GetDouble()));
                return;
            case JsonTokenType.String:
                writer.WriteTag(3, WireType.LengthDelimited);
                WriteJsonString(ref reader, writer);
                return;
            case JsonTokenType.True:
            case JsonTokenType.False:
                writer.WriteTag(4, WireType.Varint);
                writer.WriteVarint(reader.TokenType == JsonTokenType.True ? 1UL : 0UL);
                return;
            case JsonTokenType.StartObject:
            {
                writer.WriteTag(5, WireType.LengthDelimited);
                var start = writer.BeginLengthDelimited();
                ParseMessage(ref reader, value.FindFieldByNumber(5).MessageType, writer, options, depth + 1);
                writer.EndLengthDelimited(start);
                return;
            }

            case JsonTokenType.StartArray:
            {
                writer.WriteTag(6, WireType.LengthDelimited);
                var start = writer.BeginLengthDelimited();
                ParseMessage(ref reader, value.FindFieldByNumber(6).MessageType, writer, options, depth + 1);
                writer.EndLengthDelimited(start);
                return;
            }

            default:
                throw new TranscodingException("unexpected JSON token for google.protobuf.Value");
        }
    }

    /// <summary>Any's <c>@type</c> may come after its fields, so the object is buffered (Any is rare; the allocation is accepted).</summary>
    private static void ParseAny(ref Utf8JsonReader reader, ProtoWireWriter writer, ProtoJsonOptions options, int depth)
    {
        Expect(ref reader, JsonTokenType.StartObject, "google.protobuf.Any");
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (!root.EnumerateObject().Any())
        {
            return;
        }

        if (!root.TryGetProperty("@type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            throw new TranscodingException("google.protobuf.Any needs an '@type'");
        }

        var typeUrl = typeElement.GetString()!;
        var typeName = typeUrl[(typeUrl.LastIndexOf('/') + 1)..];
        var type = options.TypeResolver?.Invoke(typeName) ?? throw new TranscodingException($"unknown type '{typeUrl}' in google.protobuf.Any");
        writer.WriteTag(1, WireType.LengthDelimited);
        WriteString(typeUrl, writer);
        writer.WriteTag(2, WireType.LengthDelimited);
        var start = writer.BeginLengthDelimited();
        var info = ProtoJsonInfo.For(type);
        byte[] json;
        if (info.WellKnown != WellKnownType.None)
        {
            if (!root.TryGetProperty("value", out var value))
            {
                throw new TranscodingException($"google.protobuf.Any of {typeName} needs a 'value'");
            }

            json = JsonSerializer.SerializeToUtf8Bytes(value, JsonElementContext.Default.JsonElement);
            var inner = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = options.MaxDepth * 2 + 8 });
            inner.Read();
            ParseMessage(ref inner, type, writer, options, depth + 1);
        }
        else
        {
            json = JsonSerializer.SerializeToUtf8Bytes(root, JsonElementContext.Default.JsonElement);
            var inner = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = options.MaxDepth * 2 + 8 });
            inner.Read();
            if (depth + 1 > options.MaxDepth)
            {
                throw new TranscodingException($"the JSON nests messages more than {options.MaxDepth} deep");
            }

            ParseFields(ref inner, type, info, writer, options, depth + 1, skipType: true);
        }

        writer.EndLengthDelimited(start);
    }

    private static void WriteSecondsNanos(long seconds, int nanos, ProtoWireWriter writer)
    {
        if (seconds != 0)
        {
            writer.WriteTag(1, WireType.Varint);
            writer.WriteVarint((ulong)seconds);
        }

        if (nanos != 0)
        {
            writer.WriteTag(2, WireType.Varint);
            writer.WriteVarint((ulong)(long)nanos);
        }
    }

    private static void RequireString(ref Utf8JsonReader reader, MessageDescriptor message)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new TranscodingException($"{message.FullName} must be a JSON string");
        }
    }

    /// <summary>Decodes a property name into <paramref name="buffer"/> without allocating; -1 when it does not fit.</summary>
    private static int PropertyName(ref Utf8JsonReader reader, scoped Span<char> buffer) =>
        !reader.HasValueSequence && !reader.ValueIsEscaped && reader.ValueSpan.Length <= buffer.Length
            ? Encoding.UTF8.GetChars(reader.ValueSpan, buffer)
            : -1;

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string what)
    {
        if (reader.TokenType != type)
        {
            throw new TranscodingException($"{what} must be a JSON {(type == JsonTokenType.StartArray ? "array" : "object")}, not {reader.TokenType}");
        }
    }

    private static void Read(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new TranscodingException("the JSON ends too early");
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
internal sealed partial class JsonElementContext : System.Text.Json.Serialization.JsonSerializerContext;
