using Gatehouse.Policies.Transcoding;
using Gatehouse.Tests.Bookstore;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Core.Tests.Policies.Transcoding;

/// <summary>Query parameters into the request message (GET /v1/echo → bookstore.v1.Bookstore/Echo).</summary>
public class GrpcTranscoderQueryTests
{
    private static Everything Write(Dictionary<string, StringValues> query)
    {
        var errors = new List<string>();
        var set = GrpcDescriptorSet.Load(BookstoreDescriptors.Set(), errors)!;
        Assert.Empty(errors);
        var binding = set.Bindings.Single(b => b.Method.Name == "Echo" && b.HttpMethod == "GET");
        using var writer = new ProtoWireWriter();

        GrpcTranscoder.WriteRequest(binding, [], "/v1/echo", [], 0, new QueryCollection(query), writer, ProtoJsonOptions.Default);

        return Everything.Parser.ParseFrom(writer.WrittenSpan);
    }

    [Fact]
    public void Enum_ByNameOrNumber()
    {
        var message = Write(new()
        {
            ["fEnum"] = "2",
            ["r_enum"] = new(["FICTION", "1", "-3", "7"]),
            ["pEnum"] = "0",
        });

        Assert.Equal(Genre.History, message.FEnum);
        Assert.Equal([Genre.Fiction, Genre.Fiction, (Genre)(-3), (Genre)7], message.REnum);
        Assert.True(message.HasPEnum);
        Assert.Equal(Genre.Unspecified, message.PEnum);
    }

    [Theory]
    [InlineData("2x")]
    [InlineData("1.0")]
    [InlineData("99999999999")]
    [InlineData("history")]
    public void Enum_NeitherNameNorInt32_Refused(string value)
    {
        var error = Assert.Throws<TranscodingException>(() => Write(new() { ["fEnum"] = value }));

        Assert.Contains("is not a value of enum bookstore.v1.Genre", error.Message, StringComparison.Ordinal);
    }
}
