using System.Text;
using System.Text.Json;
using Gatehouse.Policies.Transcoding;
using Gatehouse.Tests.Bookstore;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace Gatehouse.Core.Tests.Policies.Transcoding;

/// <summary>
/// The descriptor-driven codec against Google.Protobuf's JsonFormatter and JsonParser on generated types: thousands
/// of random messages both ways (fixed seed), plus a table of edge cases.
/// </summary>
public class ProtoJsonDifferentialTests
{
    private static readonly GrpcDescriptorSet Set = LoadSet();
    private static readonly MessageDescriptor RuntimeEverything = Set.FindMessage("bookstore.v1.Everything")!;
    private static readonly TypeRegistry Registry = TypeRegistry.FromMessages(Nested.Descriptor, Timestamp.Descriptor, Duration.Descriptor, Any.Descriptor, Value.Descriptor, Int64Value.Descriptor);
    private static readonly JsonFormatter GoogleFormatter = new(JsonFormatter.Settings.Default.WithTypeRegistry(Registry));
    private static readonly JsonParser GoogleParser = new(JsonParser.Settings.Default.WithTypeRegistry(Registry));

    private static GrpcDescriptorSet LoadSet()
    {
        var errors = new List<string>();
        return GrpcDescriptorSet.Load(BookstoreDescriptors.Set(), errors) ?? throw new InvalidOperationException(string.Join("; ", errors));
    }

    internal static string ToJson(byte[] protobuf, MessageDescriptor? type = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            ProtoJsonFormatter.WriteMessage(protobuf, type ?? RuntimeEverything, json, Set.Json);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    internal static byte[] ToProtobuf(string json, MessageDescriptor? type = null, ProtoJsonOptions? options = null)
    {
        using var writer = new ProtoWireWriter(16);
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = 256 });
        reader.Read();
        ProtoJsonParser.ParseMessage(ref reader, type ?? RuntimeEverything, writer, options ?? Set.Json);
        return writer.WrittenSpan.ToArray();
    }

    private static void AssertSameJson(string expected, string actual) =>
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(expected).RootElement, JsonDocument.Parse(actual).RootElement), $"expected {expected}\n  actual {actual}");

    [Fact]
    public void RandomMessages_ProtobufToJson_SameAsGoogleFormatter()
    {
        var random = new Random(20261129);
        for (var i = 0; i < 3000; i++)
        {
            var message = RandomEverything.Create(random);

            var actual = ToJson(message.ToByteArray());

            AssertSameJson(GoogleFormatter.Format(message), actual);
        }
    }

    [Fact]
    public void RandomMessages_JsonToProtobuf_SameAsGoogleParser()
    {
        var random = new Random(11292026);
        for (var i = 0; i < 3000; i++)
        {
            var json = GoogleFormatter.Format(RandomEverything.Create(random));

            var actual = Everything.Parser.ParseFrom(ToProtobuf(json));

            Assert.Equal(GoogleParser.Parse<Everything>(json), actual);
        }
    }

    public static TheoryData<string> EdgeCaseMessages() => new()
    {
        """{"fDouble": "NaN", "fFloat": "-Infinity", "rDouble": ["Infinity", -0.0, 1e308, 5e-324]}""",
        """{"fInt64": "-9223372036854775808", "fUint64": "18446744073709551615", "fSint64": "9223372036854775807", "fFixed64": "18446744073709551615", "fSfixed64": "-9223372036854775808"}""",
        """{"fInt32": -2147483648, "fUint32": 4294967295, "fSint32": -2147483648, "fFixed32": 4294967295, "fSfixed32": -2147483648}""",
        """{"wTimestamp": "0001-01-01T00:00:00Z", "rTimestamp": ["9999-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00.100Z", "2020-02-29T12:00:00.000001Z"]}""",
        """{"wDuration": "-315576000000.999999999s"}""",
        """{"wDuration": "-0.5s"}""",
        """{"wDuration": "315576000000s"}""",
        """{"wAny": {"@type": "type.googleapis.com/google.protobuf.Any", "value": {"@type": "type.googleapis.com/bookstore.v1.Nested", "value": 3, "tags": ["a"]}}}""",
        """{"wAny": {"@type": "type.googleapis.com/google.protobuf.Timestamp", "value": "2000-01-01T00:00:00Z"}}""",
        """{"wAny": {"@type": "type.googleapis.com/google.protobuf.Value", "value": {"a": [1, "x", null, true]}}}""",
        """{"wStruct": {"a": {"b": [1, 2, {"c": null}]}, "empty": {}, "list": []}, "wValue": null, "wList": [null, 1.5, "s", false, {}, []]}""",
        """{"wInt32": 0, "wInt64": "0", "wUint64": "18446744073709551615", "wBool": false, "wString": "", "wBytes": "", "wDouble": "NaN", "wFloat": 0}""",
        """{"wFieldMask": "a,bC.dE,fooBar", "wEmpty": {}}""",
        """{"oNull": null}""",
        """{"oString": ""}""",
        """{"pInt32": 0, "pString": "", "pEnum": "GENRE_UNSPECIFIED"}""",
        """{"mStringInt32": {"": 0, "ü": -1}, "mInt64String": {"-9223372036854775808": "min"}, "mBoolNested": {"true": {}, "false": {"value": 1}}, "mUint32Bytes": {"4294967295": "AAE="}}""",
        """{"fEnum": 7, "rEnum": ["FICTION", 99]}""",
        """{"fString": "\u0000\u001f\"\\ \ud83d\ude00 <script>", "fBytes": "+/8="}""",
        """{"fNested": {"child": {"child": {"child": {"value": 1}}}}}""",
    };

    [Theory]
    [MemberData(nameof(EdgeCaseMessages))]
    public void EdgeCases_BothWays_SameAsGoogle(string json)
    {
        var expected = GoogleParser.Parse<Everything>(json);

        var parsed = Everything.Parser.ParseFrom(ToProtobuf(json));
        var formatted = ToJson(expected.ToByteArray());

        Assert.Equal(expected, parsed);
        AssertSameJson(GoogleFormatter.Format(expected), formatted);
    }

    [Theory]
    [InlineData("""{"fInt64": 1e2, "fUint32": "7", "fInt32": 5.0, "fDouble": "1.5"}""")]
    [InlineData("""{"f_int64": "3", "r_string": ["a"]}""")]
    [InlineData("""{"wTimestamp": "2020-01-01T10:00:00+02:00"}""")]
    [InlineData("""{"fBytes": "-_8"}""")]
    [InlineData("""{"fNested": null, "rInt32": [], "mStringInt32": {}}""")]
    public void LenientInputs_AcceptedAsGoogleParserDoes(string json)
    {
        var parsed = Everything.Parser.ParseFrom(ToProtobuf(json));

        // Google's parser is the reference where it accepts the input; URL-safe unpadded base64 it does not take.
        if (!json.Contains("-_8", StringComparison.Ordinal))
        {
            Assert.Equal(GoogleParser.Parse<Everything>(json), parsed);
        }
        else
        {
            Assert.Equal(new byte[] { 0xFB, 0xFF }, parsed.FBytes.ToByteArray());
        }
    }

    [Theory]
    [InlineData("""{"unknown": 1}""", "unknown field 'unknown' in bookstore.v1.Everything")]
    [InlineData("""{"fInt32": 2147483648}""", "not a valid int32")]
    [InlineData("""{"fUint64": -1}""", "not a valid uint64")]
    [InlineData("""{"fInt32": 1.5}""", "not a valid int32")]
    [InlineData("""{"fEnum": "NOPE"}""", "'NOPE' is not a value of enum bookstore.v1.Genre")]
    [InlineData("""{"fBool": "true"}""", "must be true or false")]
    [InlineData("""{"fString": 1}""", "must be a string")]
    [InlineData("""{"fBytes": "***"}""", "not valid base64")]
    [InlineData("""{"oString": "a", "oInt64": "1"}""", "more than one field of oneof 'choice'")]
    [InlineData("""{"wTimestamp": "10000-01-01T00:00:00Z"}""", "not a valid timestamp")]
    [InlineData("""{"wTimestamp": "2020-13-01T00:00:00Z"}""", "not a valid timestamp")]
    [InlineData("""{"wDuration": "315576000001s"}""", "not a valid timestamp or duration")]
    [InlineData("""{"fFloat": 1e39}""", "out of range for a float")]
    [InlineData("""{"rInt32": [1, null]}""", "null is not allowed")]
    [InlineData("""{"wAny": {"@type": "type.googleapis.com/nope.Missing"}}""", "unknown type")]
    [InlineData("""{"fNested": []}""", "must be a JSON object")]
    public void InvalidInputs_Refused_WithReason(string json, string reason)
    {
        var error = Assert.Throws<TranscodingException>(() => ToProtobuf(json));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownFields_Ignored_WhenConfigured()
    {
        var parsed = Everything.Parser.ParseFrom(ToProtobuf("""{"unknown": {"deep": [1]}, "fInt32": 3}""", options: Set.JsonIgnoringUnknownFields));

        Assert.Equal(3, parsed.FInt32);
    }

    [Fact]
    public void DeepNesting_RefusedBothWays()
    {
        var json = new StringBuilder();
        for (var i = 0; i < 70; i++)
        {
            json.Append("{\"child\":");
        }

        json.Append("{}").Append('}', 70);
        var nested = new Nested();
        for (var i = 0; i < 70; i++)
        {
            nested = new Nested { Child = nested };
        }

        var message = Set.FindMessage("bookstore.v1.Nested")!;
        Assert.Contains("more than 64 deep", Assert.Throws<TranscodingException>(() => ToProtobuf(json.ToString(), message)).Message, StringComparison.Ordinal);
        Assert.Contains("more than 64 deep", Assert.Throws<TranscodingException>(() => ToJson(nested.ToByteArray(), message)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LargeNestedMessage_LengthPrefixBackPatched()
    {
        var message = new Everything { FNested = new Nested { Tags = { Enumerable.Range(0, 2000).Select(i => new string('x', i % 300)) } }, FString = new string('y', 100_000) };

        var parsed = Everything.Parser.ParseFrom(ToProtobuf(GoogleFormatter.Format(message)));

        Assert.Equal(message, parsed);
    }
}
