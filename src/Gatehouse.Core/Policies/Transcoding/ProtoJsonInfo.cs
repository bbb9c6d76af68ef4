using System.Runtime.CompilerServices;
using Google.Protobuf.Reflection;

namespace Gatehouse.Policies.Transcoding;

/// <summary>
/// What the codec needs per message type, computed once: fields by JSON name and proto name, fields in number
/// order. Kept beside the descriptor (weakly), so a reloaded descriptor set does not keep old ones alive.
/// </summary>
internal sealed class ProtoJsonInfo
{
    private static readonly ConditionalWeakTable<MessageDescriptor, ProtoJsonInfo> Cache = new();

    private readonly Dictionary<string, FieldDescriptor> _byName;
    private readonly Dictionary<string, FieldDescriptor>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    private ProtoJsonInfo(MessageDescriptor message)
    {
        _byName = new Dictionary<string, FieldDescriptor>(StringComparer.Ordinal);
        foreach (var field in message.Fields.InDeclarationOrder())
        {
            _byName.TryAdd(field.JsonName, field);
            _byName.TryAdd(field.Name, field);
        }

        _lookup = _byName.GetAlternateLookup<ReadOnlySpan<char>>();
        InNumberOrder = message.Fields.InFieldNumberOrder().ToArray();
        WellKnown = WellKnownTypes.Of(message.FullName);
    }

    public FieldDescriptor[] InNumberOrder { get; }

    public WellKnownType WellKnown { get; }

    public static ProtoJsonInfo For(MessageDescriptor message) => Cache.GetValue(message, m => new ProtoJsonInfo(m));

    public FieldDescriptor? Find(ReadOnlySpan<char> name) => _lookup.TryGetValue(name, out var field) ? field : null;

    public FieldDescriptor? FindByNumber(int number)
    {
        // Fields are few; a binary search over the number-ordered array beats hashing.
        var fields = InNumberOrder;
        int low = 0, high = fields.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >> 1;
            var n = fields[mid].FieldNumber;
            if (n == number)
            {
                return fields[mid];
            }

            if (n < number)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return null;
    }
}

internal enum WellKnownType
{
    None,
    Timestamp,
    Duration,
    FieldMask,
    Struct,
    Value,
    ListValue,
    Empty,
    Any,
    Wrapper,
}

internal static class WellKnownTypes
{
    public static WellKnownType Of(string fullName) => fullName switch
    {
        "google.protobuf.Timestamp" => WellKnownType.Timestamp,
        "google.protobuf.Duration" => WellKnownType.Duration,
        "google.protobuf.FieldMask" => WellKnownType.FieldMask,
        "google.protobuf.Struct" => WellKnownType.Struct,
        "google.protobuf.Value" => WellKnownType.Value,
        "google.protobuf.ListValue" => WellKnownType.ListValue,
        "google.protobuf.Empty" => WellKnownType.Empty,
        "google.protobuf.Any" => WellKnownType.Any,
        "google.protobuf.DoubleValue" or "google.protobuf.FloatValue" or "google.protobuf.Int64Value" or "google.protobuf.UInt64Value"
            or "google.protobuf.Int32Value" or "google.protobuf.UInt32Value" or "google.protobuf.BoolValue" or "google.protobuf.StringValue"
            or "google.protobuf.BytesValue" => WellKnownType.Wrapper,
        _ => WellKnownType.None,
    };

    // Seconds bounds of Timestamp (0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z) and Duration (±10,000 years).
    public const long MinTimestampSeconds = -62135596800;
    public const long MaxTimestampSeconds = 253402300799;
    public const long MaxDurationSeconds = 315576000000;
}

/// <summary>How the codec treats what the descriptors do not say.</summary>
internal sealed class ProtoJsonOptions
{
    public static readonly ProtoJsonOptions Default = new();

    /// <summary>JSON fields the message does not have are an error (400) unless this is set.</summary>
    public bool IgnoreUnknownFields { get; init; }

    /// <summary>Message nesting deeper than this is refused in both directions.</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Finds the message type of an <c>Any</c>'s <c>@type</c> (by full name); none means Any cannot be transcoded.</summary>
    public Func<string, MessageDescriptor?>? TypeResolver { get; init; }
}
