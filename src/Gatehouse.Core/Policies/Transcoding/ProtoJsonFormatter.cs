using System.Buffers;
using System.Text;
using System.Text.Json;
using Google.Protobuf.Reflection;

namespace Gatehouse.Policies.Transcoding;

/// <summary>
/// Protobuf wire format → proto3 JSON, driven by runtime descriptors, written with <see cref="Utf8JsonWriter"/>.
/// Output matches Google.Protobuf's JsonFormatter with default settings: fields in number order, defaults omitted
/// except where the field has presence (messages, oneof members, proto3 <c>optional</c>), 64-bit integers as strings,
/// enums by name (by number when unknown), bytes as standard base64, well-known types in their JSON forms.
/// </summary>
internal static class ProtoJsonFormatter
{
    private readonly record struct Entry(int Number, WireType Type, int Start, int End);

    public static void WriteMessage(ReadOnlySpan<byte> data, MessageDescriptor message, Utf8JsonWriter json, ProtoJsonOptions options, int depth = 0)
    {
        if (depth > options.MaxDepth)
        {
            throw new TranscodingException($"the response nests messages more than {options.MaxDepth} deep");
        }

        var info = ProtoJsonInfo.For(message);
        if (info.WellKnown != WellKnownType.None)
        {
            WriteWellKnown(data, message, info.WellKnown, json, options, depth);
            return;
        }

        json.WriteStartObject();
        WriteFields(data, info, json, options, depth);
        json.WriteEndObject();
    }

    /// <summary>Only one field's value (for <c>response_body</c>); its default when the message does not have it.</summary>
    public static void WriteFieldValue(ReadOnlySpan<byte> data, FieldDescriptor field, Utf8JsonWriter json, ProtoJsonOptions options)
    {
        var entries = new List<Entry>();
        var reader = new ProtoWireReader(data);
        while (!reader.End)
        {
            var tag = reader.ReadVarint();
            var type = (WireType)(tag & 7);
            var payload = reader.ReadValue(type);
            var start = reader.Position - payload.Length;

            if ((int)(tag >> 3) == field.FieldNumber)
            {
                entries.Add(new Entry(field.FieldNumber, type, start, reader.Position));
            }
        }

        if (entries.Count == 0)
        {
            if (field.IsMap)
            {
                json.WriteStartObject();
                json.WriteEndObject();
            }
            else if (field.IsRepeated)
            {
                json.WriteStartArray();
                json.WriteEndArray();
            }
            else
            {
                WriteDefault(field, json, options, 0);
            }

            return;
        }

        WriteField(data, field, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(entries), json, options, 0, writeName: false);
    }

    private static void WriteFields(ReadOnlySpan<byte> data, ProtoJsonInfo info, Utf8JsonWriter json, ProtoJsonOptions options, int depth)
    {
        var entries = ArrayPool<Entry>.Shared.Rent(16);
        var count = 0;
        try
        {
            var reader = new ProtoWireReader(data);
            while (!reader.End)
            {
                var tag = reader.ReadVarint();
                var number = (int)(tag >> 3);
                var type = (WireType)(tag & 7);
                if (number <= 0)
                {
                    throw new TranscodingException("malformed protobuf field number 0");
                }

                var payload = reader.ReadValue(type);
                var start = reader.Position - payload.Length;

                if (count == entries.Length)
                {
                    var bigger = ArrayPool<Entry>.Shared.Rent(count * 2);
                    entries.AsSpan(0, count).CopyTo(bigger);
                    ArrayPool<Entry>.Shared.Return(entries);
                    entries = bigger;
                }

                // Insertion sort by number, stable: the wire is nearly always in order already, so this is linear.
                var at = count++;
                while (at > 0 && entries[at - 1].Number > number)
                {
                    entries[at] = entries[at - 1];
                    at--;
                }

                entries[at] = new Entry(number, type, start, reader.Position);
            }

            var i = 0;
            while (i < count)
            {
                var number = entries[i].Number;
                var end = i + 1;
                while (end < count && entries[end].Number == number)
                {
                    end++;
                }

                if (info.FindByNumber(number) is { } field)
                {
                    WriteField(data, field, entries.AsSpan(i, end - i), json, options, depth);
                }

                i = end;
            }
        }
        finally
        {
            ArrayPool<Entry>.Shared.Return(entries);
        }
    }

    private static void WriteField(ReadOnlySpan<byte> data, FieldDescriptor field, ReadOnlySpan<Entry> entries, Utf8JsonWriter json, ProtoJsonOptions options, int depth, bool writeName = true)
    {
        if (field.IsMap)
        {
            if (writeName)
            {
                json.WritePropertyName(field.JsonName);
            }

            json.WriteStartObject();
            var keyField = field.MessageType.FindFieldByNumber(1);
            var valueField = field.MessageType.FindFieldByNumber(2);
            foreach (var entry in entries)
            {
                RequireType(entry, WireType.LengthDelimited, field);
                WriteMapEntry(data[entry.Start..entry.End], keyField, valueField, json, options, depth);
            }

            json.WriteEndObject();
            return;
        }

        if (field.IsRepeated)
        {
            if (writeName)
            {
                json.WritePropertyName(field.JsonName);
            }

            json.WriteStartArray();
            foreach (var entry in entries)
            {
                if (entry.Type == WireType.LengthDelimited && IsPackable(field.FieldType))
                {
                    var packed = new ProtoWireReader(data[entry.Start..entry.End]);
                    var valueType = PackedWireType(field.FieldType);
                    while (!packed.End)
                    {
                        var start = packed.Position;
                        packed.Skip(valueType);
                        WriteValue(data[entry.Start..entry.End][start..packed.Position], valueType, field, json, options, depth);
                    }
                }
                else
                {
                    WriteValue(data[entry.Start..entry.End], entry.Type, field, json, options, depth);
                }
            }

            json.WriteEndArray();
            return;
        }

        var last = entries[^1];
        if (field.FieldType is FieldType.Message or FieldType.Group && entries.Length > 1)
        {
            // A message sent in several pieces is their merge, which for wire format is their concatenation.
            var merged = new ArrayBufferWriter<byte>();
            foreach (var entry in entries)
            {
                RequireType(entry, WireType.LengthDelimited, field);
                merged.Write(data[entry.Start..entry.End]);
            }

            if (writeName)
            {
                json.WritePropertyName(field.JsonName);
            }

            WriteMessage(merged.WrittenSpan, field.MessageType, json, options, depth + 1);
            return;
        }

        var value = data[last.Start..last.End];
        if (writeName && !field.HasPresence && IsDefault(value, last.Type, field))
        {
            return;
        }

        if (writeName)
            {
                json.WritePropertyName(field.JsonName);
            }

        WriteValue(value, last.Type, field, json, options, depth);
    }

    private static void WriteMapEntry(ReadOnlySpan<byte> entry, FieldDescriptor keyField, FieldDescriptor valueField, Utf8JsonWriter json, ProtoJsonOptions options, int depth)
    {
        ReadOnlySpan<byte> key = default, value = default;
        WireType keyType = WireType.Varint, valueType = WireType.Varint;
        bool hasKey = false, hasValue = false;
        var reader = new ProtoWireReader(entry);
        while (!reader.End)
        {
            var tag = reader.ReadVarint();
            var type = (WireType)(tag & 7);
            var slice = reader.ReadValue(type);

            switch (tag >> 3)
            {
                case 1:
                    key = slice;
                    keyType = type;
                    hasKey = true;
                    break;
                case 2:
                    value = slice;
                    valueType = type;
                    hasValue = true;
                    break;
            }
        }

        json.WritePropertyName(hasKey ? MapKeyText(key, keyType, keyField) : keyField.FieldType switch
        {
            FieldType.String => "",
            FieldType.Bool => "false",
            _ => "0",
        });
        if (hasValue)
        {
            WriteValue(value, valueType, valueField, json, options, depth);
        }
        else
        {
            WriteDefault(valueField, json, options, depth);
        }
    }

    private static string MapKeyText(ReadOnlySpan<byte> key, WireType type, FieldDescriptor keyField) => keyField.FieldType switch
    {
        FieldType.String => Utf8(key),
        FieldType.Bool => ReadVarint(key, type, keyField) != 0 ? "true" : "false",
        FieldType.Int32 => ((int)(long)ReadVarint(key, type, keyField)).ToString(System.Globalization.CultureInfo.InvariantCulture),
        FieldType.Int64 => ((long)ReadVarint(key, type, keyField)).ToString(System.Globalization.CultureInfo.InvariantCulture),
        FieldType.UInt32 => ((uint)ReadVarint(key, type, keyField)).ToString(System.Globalization.CultureInfo.InvariantCulture),
        FieldType.UInt64 => ReadVarint(key, type, keyField).ToString(System.Globalization.CultureInfo.InvariantCulture),
        FieldType.SInt32 => ZigZag32((uint)ReadVarint(key, type, keyField)).ToString(System.Globalization.CultureInfo.InvariantCulture),
        FieldType.SInt64 => ZigZag64(ReadVarint(key, type, keyField)).ToString(System.Globalization.CultureInfo.InvariantCulture),
        FieldType.Fixed32 => Fixed32(key, type, keyField).ToString(System.Globalization.CultureInfo.InvariantCulture),
        FieldType.SFixed32 => ((int)Fixed32(key, type, keyField)).ToString(System.Globalization.CultureInfo.InvariantCulture),
        FieldType.Fixed64 => Fixed64(key, type, keyField).ToString(System.Globalization.CultureInfo.InvariantCulture),
        FieldType.SFixed64 => ((long)Fixed64(key, type, keyField)).ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new TranscodingException($"unsupported map key type in '{keyField.FullName}'"),
    };

    private static void WriteDefault(FieldDescriptor field, Utf8JsonWriter json, ProtoJsonOptions options, int depth)
    {
        switch (field.FieldType)
        {
            case FieldType.Message:
            case FieldType.Group:
                WriteMessage([], field.MessageType, json, options, depth + 1);
                break;
            case FieldType.String:
                json.WriteStringValue("");
                break;
            case FieldType.Bytes:
                json.WriteStringValue("");
                break;
            case FieldType.Bool:
                json.WriteBooleanValue(false);
                break;
            case FieldType.Enum:
                WriteEnum(0, field.EnumType, json);
                break;
            case FieldType.Int64 or FieldType.UInt64 or FieldType.SInt64 or FieldType.Fixed64 or FieldType.SFixed64:
                json.WriteStringValue("0");
                break;
            default:
                json.WriteNumberValue(0);
                break;
        }
    }

    private static bool IsDefault(ReadOnlySpan<byte> value, WireType type, FieldDescriptor field) => field.FieldType switch
    {
        FieldType.String or FieldType.Bytes => value.Length == 0,
        FieldType.Double => type == WireType.Fixed64 && BitConverter.Int64BitsToDouble((long)Fixed64(value, type, field)) == 0,
        FieldType.Float => type == WireType.Fixed32 && BitConverter.Int32BitsToSingle((int)Fixed32(value, type, field)) == 0,
        FieldType.Fixed32 or FieldType.SFixed32 => Fixed32(value, type, field) == 0,
        FieldType.Fixed64 or FieldType.SFixed64 => Fixed64(value, type, field) == 0,
        FieldType.Message or FieldType.Group => false,
        _ => ReadVarint(value, type, field) == 0,
    };

    private static void WriteValue(ReadOnlySpan<byte> value, WireType type, FieldDescriptor field, Utf8JsonWriter json, ProtoJsonOptions options, int depth)
    {
        switch (field.FieldType)
        {
            case FieldType.Double:
                WriteDouble(BitConverter.Int64BitsToDouble((long)Fixed64(value, type, field)), json);
                return;
            case FieldType.Float:
            {
                var f = BitConverter.Int32BitsToSingle((int)Fixed32(value, type, field));
                if (float.IsFinite(f))
                {
                    json.WriteNumberValue(f);
                }
                else
                {
                    json.WriteStringValue(float.IsNaN(f) ? "NaN" : f > 0 ? "Infinity" : "-Infinity");
                }

                return;
            }

            case FieldType.Int32:
                json.WriteNumberValue((int)(long)ReadVarint(value, type, field));
                return;
            case FieldType.UInt32:
                json.WriteNumberValue((uint)ReadVarint(value, type, field));
                return;
            case FieldType.SInt32:
                json.WriteNumberValue(ZigZag32((uint)ReadVarint(value, type, field)));
                return;
            case FieldType.Fixed32:
                json.WriteNumberValue(Fixed32(value, type, field));
                return;
            case FieldType.SFixed32:
                json.WriteNumberValue((int)Fixed32(value, type, field));
                return;
            case FieldType.Int64:
                WriteInt64Text((long)ReadVarint(value, type, field), json);
                return;
            case FieldType.SInt64:
                WriteInt64Text(ZigZag64(ReadVarint(value, type, field)), json);
                return;
            case FieldType.SFixed64:
                WriteInt64Text((long)Fixed64(value, type, field), json);
                return;
            case FieldType.UInt64:
                WriteUInt64Text(ReadVarint(value, type, field), json);
                return;
            case FieldType.Fixed64:
                WriteUInt64Text(Fixed64(value, type, field), json);
                return;
            case FieldType.Bool:
                json.WriteBooleanValue(ReadVarint(value, type, field) != 0);
                return;
            case FieldType.String:
                RequireType(type, WireType.LengthDelimited, field);
                try
                {
                    json.WriteStringValue(value);
                }
                catch (ArgumentException)
                {
                    throw new TranscodingException($"field '{field.JsonName}' is not valid UTF-8");
                }

                return;
            case FieldType.Bytes:
                RequireType(type, WireType.LengthDelimited, field);
                json.WriteBase64StringValue(value);
                return;
            case FieldType.Enum:
                WriteEnum((int)(long)ReadVarint(value, type, field), field.EnumType, json);
                return;
            default:
                RequireType(type, WireType.LengthDelimited, field);
                WriteMessage(value, field.MessageType, json, options, depth + 1);
                return;
        }
    }

    private static void WriteEnum(int number, EnumDescriptor type, Utf8JsonWriter json)
    {
        if (type.FullName == "google.protobuf.NullValue")
        {
            json.WriteNullValue();
        }
        else if (type.FindValueByNumber(number) is { } value)
        {
            json.WriteStringValue(value.Name);
        }
        else
        {
            json.WriteNumberValue(number);
        }
    }

    private static void WriteDouble(double d, Utf8JsonWriter json)
    {
        if (double.IsFinite(d))
        {
            json.WriteNumberValue(d);
        }
        else
        {
            json.WriteStringValue(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
        }
    }

    private static void WriteInt64Text(long value, Utf8JsonWriter json)
    {
        Span<byte> text = stackalloc byte[24];
        System.Buffers.Text.Utf8Formatter.TryFormat(value, text, out var written);
        json.WriteStringValue(text[..written]);
    }

    private static void WriteUInt64Text(ulong value, Utf8JsonWriter json)
    {
        Span<byte> text = stackalloc byte[24];
        System.Buffers.Text.Utf8Formatter.TryFormat(value, text, out var written);
        json.WriteStringValue(text[..written]);
    }

    private static void WriteWellKnown(ReadOnlySpan<byte> data, MessageDescriptor message, WellKnownType kind, Utf8JsonWriter json, ProtoJsonOptions options, int depth)
    {
        switch (kind)
        {
            case WellKnownType.Timestamp:
            case WellKnownType.Duration:
            {
                long seconds = 0;
                var nanos = 0;
                var reader = new ProtoWireReader(data);
                while (!reader.End)
                {
                    var tag = reader.ReadVarint();
                    switch (tag)
                    {
                        case (1 << 3) | 0:
                            seconds = (long)reader.ReadVarint();
                            break;
                        case (2 << 3) | 0:
                            nanos = (int)(long)reader.ReadVarint();
                            break;
                        default:
                            reader.Skip((WireType)(tag & 7));
                            break;
                    }
                }

                var builder = new StringBuilder(32);
                if (kind == WellKnownType.Timestamp)
                {
                    ProtoJsonTime.FormatTimestamp(seconds, nanos, builder);
                }
                else
                {
                    ProtoJsonTime.FormatDuration(seconds, nanos, builder);
                }

                json.WriteStringValue(builder.ToString());
                return;
            }

            case WellKnownType.FieldMask:
            {
                var builder = new StringBuilder();
                var reader = new ProtoWireReader(data);
                while (!reader.End)
                {
                    var tag = reader.ReadVarint();
                    if (tag == ((1 << 3) | 2))
                    {
                        if (builder.Length > 0)
                        {
                            builder.Append(',');
                        }

                        builder.Append(ProtoJsonTime.SnakeToCamel(Utf8(reader.ReadLengthDelimited())));
                    }
                    else
                    {
                        reader.Skip((WireType)(tag & 7));
                    }
                }

                json.WriteStringValue(builder.ToString());
                return;
            }

            case WellKnownType.Wrapper:
            {
                var field = message.FindFieldByNumber(1);
                ReadOnlySpan<byte> value = default;
                var type = WireType.Varint;
                var found = false;
                var reader = new ProtoWireReader(data);
                while (!reader.End)
                {
                    var tag = reader.ReadVarint();
                    var wire = (WireType)(tag & 7);
                    var slice = reader.ReadValue(wire);

                    if (tag >> 3 == 1)
                    {
                        value = slice;
                        type = wire;
                        found = true;
                    }
                }

                if (found)
                {
                    WriteValue(value, type, field, json, options, depth);
                }
                else
                {
                    WriteDefault(field, json, options, depth);
                }

                return;
            }

            case WellKnownType.Struct:
            {
                json.WriteStartObject();
                var mapField = message.FindFieldByNumber(1);
                var keyField = mapField.MessageType.FindFieldByNumber(1);
                var valueField = mapField.MessageType.FindFieldByNumber(2);
                var reader = new ProtoWireReader(data);
                while (!reader.End)
                {
                    var tag = reader.ReadVarint();
                    if (tag == ((1 << 3) | 2))
                    {
                        WriteMapEntry(reader.ReadLengthDelimited(), keyField, valueField, json, options, depth);
                    }
                    else
                    {
                        reader.Skip((WireType)(tag & 7));
                    }
                }

                json.WriteEndObject();
                return;
            }

            case WellKnownType.ListValue:
            {
                json.WriteStartArray();
                var valueType = message.FindFieldByNumber(1).MessageType;
                var reader = new ProtoWireReader(data);
                while (!reader.End)
                {
                    var tag = reader.ReadVarint();
                    if (tag == ((1 << 3) | 2))
                    {
                        WriteMessage(reader.ReadLengthDelimited(), valueType, json, options, depth + 1);
                    }
                    else
                    {
                        reader.Skip((WireType)(tag & 7));
                    }
                }

                json.WriteEndArray();
                return;
            }

            case WellKnownType.Value:
                WriteStructValue(data, message, json, options, depth);
                return;
            case WellKnownType.Empty:
                json.WriteStartObject();
                json.WriteEndObject();
                return;
            case WellKnownType.Any:
                WriteAny(data, json, options, depth);
                return;
        }
    }

    private static void WriteStructValue(ReadOnlySpan<byte> data, MessageDescriptor message, Utf8JsonWriter json, ProtoJsonOptions options, int depth)
    {
        // The last kind on the wire wins, as for any oneof.
        var kind = 0;
        ReadOnlySpan<byte> value = default;
        var reader = new ProtoWireReader(data);
        while (!reader.End)
        {
            var tag = reader.ReadVarint();
            var wire = (WireType)(tag & 7);
            value = reader.ReadValue(wire);

            kind = (int)(tag >> 3);
        }

        switch (kind)
        {
            case 2:
            {
                var d = BitConverter.Int64BitsToDouble((long)Fixed64(value, WireType.Fixed64, message.FindFieldByNumber(2)));
                if (!double.IsFinite(d))
                {
                    throw new TranscodingException("google.protobuf.Value cannot hold NaN or Infinity in JSON");
                }

                json.WriteNumberValue(d);
                return;
            }

            case 3:
                json.WriteStringValue(value);
                return;
            case 4:
                json.WriteBooleanValue(ReadVarint(value, WireType.Varint, message.FindFieldByNumber(4)) != 0);
                return;
            case 5:
            case 6:
                WriteMessage(value, message.FindFieldByNumber(kind).MessageType, json, options, depth + 1);
                return;
            default:
                json.WriteNullValue();
                return;
        }
    }

    private static void WriteAny(ReadOnlySpan<byte> data, Utf8JsonWriter json, ProtoJsonOptions options, int depth)
    {
        string? typeUrl = null;
        ReadOnlySpan<byte> value = default;
        var reader = new ProtoWireReader(data);
        while (!reader.End)
        {
            var tag = reader.ReadVarint();
            switch (tag)
            {
                case (1 << 3) | 2:
                    typeUrl = Utf8(reader.ReadLengthDelimited());
                    break;
                case (2 << 3) | 2:
                    value = reader.ReadLengthDelimited();
                    break;
                default:
                    reader.Skip((WireType)(tag & 7));
                    break;
            }
        }

        json.WriteStartObject();
        if (string.IsNullOrEmpty(typeUrl))
        {
            json.WriteEndObject();
            return;
        }

        var typeName = typeUrl[(typeUrl.LastIndexOf('/') + 1)..];
        var type = options.TypeResolver?.Invoke(typeName) ?? throw new TranscodingException($"unknown type '{typeUrl}' in google.protobuf.Any");
        json.WriteString("@type", typeUrl);
        var info = ProtoJsonInfo.For(type);
        if (info.WellKnown != WellKnownType.None)
        {
            json.WritePropertyName("value");
            WriteMessage(value, type, json, options, depth + 1);
        }
        else
        {
            WriteFields(value, info, json, options, depth + 1);
        }

        json.WriteEndObject();
    }

    private static bool IsPackable(FieldType type) => type is not (FieldType.String or FieldType.Bytes or FieldType.Message or FieldType.Group);

    private static WireType PackedWireType(FieldType type) => type switch
    {
        FieldType.Double or FieldType.Fixed64 or FieldType.SFixed64 => WireType.Fixed64,
        FieldType.Float or FieldType.Fixed32 or FieldType.SFixed32 => WireType.Fixed32,
        _ => WireType.Varint,
    };

    private static ulong ReadVarint(ReadOnlySpan<byte> value, WireType type, FieldDescriptor field)
    {
        RequireType(type, WireType.Varint, field);
        return new ProtoWireReader(value).ReadVarint();
    }

    private static uint Fixed32(ReadOnlySpan<byte> value, WireType type, FieldDescriptor field)
    {
        RequireType(type, WireType.Fixed32, field);
        return new ProtoWireReader(value).ReadFixed32();
    }

    private static ulong Fixed64(ReadOnlySpan<byte> value, WireType type, FieldDescriptor field)
    {
        RequireType(type, WireType.Fixed64, field);
        return new ProtoWireReader(value).ReadFixed64();
    }

    private static int ZigZag32(uint n) => (int)(n >> 1) ^ -(int)(n & 1);

    private static long ZigZag64(ulong n) => (long)(n >> 1) ^ -(long)(n & 1);

    private static void RequireType(Entry entry, WireType expected, FieldDescriptor field) => RequireType(entry.Type, expected, field);

    private static void RequireType(WireType actual, WireType expected, FieldDescriptor field)
    {
        if (actual != expected)
        {
            throw new TranscodingException($"field '{field.FullName}' has wire type {(int)actual}, expected {(int)expected}");
        }
    }

    private static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
