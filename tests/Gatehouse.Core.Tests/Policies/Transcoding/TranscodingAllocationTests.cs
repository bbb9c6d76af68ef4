using System.Buffers;
using System.Text.Json;
using Gatehouse.Policies.Transcoding;
using Gatehouse.Tests.Bookstore;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Core.Tests.Policies.Transcoding;

/// <summary>
/// What the transcoder itself allocates for one unary call (GET /v1/shelves/{shelf} → GetShelf → Shelf as JSON):
/// path match, request message written into the reused wire buffer, response message written as JSON through a
/// reused writer. YARP's and Kestrel's own per-request objects are not counted.
/// </summary>
[Collection("memory measurements")]
public class TranscodingAllocationTests
{
    [Fact]
    public void UnaryCall_CodecAllocatesOnlyThePathVariablesText()
    {
        var errors = new List<string>();
        var set = GrpcDescriptorSet.Load(BookstoreDescriptors.Set(), errors)!;
        Assert.Empty(errors);
        var transcoder = new GrpcTranscoder(set, timeout: null, maxMessageBytes: 4 << 20);
        var response = new Shelf { Id = 7, Theme = "Science fiction", Archived = true }.ToByteArray();
        using var wire = new ProtoWireWriter();
        var output = new ArrayBufferWriter<byte>(1024);
        using var json = new Utf8JsonWriter(output);

        long Call()
        {
            Span<Range> segments = stackalloc Range[16];
            var binding = transcoder.Match("GET", "/v1/shelves/7", segments, out var count, out _)!;
            wire.Reset();
            GrpcTranscoder.WriteRequest(binding, [], "/v1/shelves/7", segments, count, QueryCollection.Empty, wire, ProtoJsonOptions.Default);
            output.ResetWrittenCount();
            json.Reset(output);
            ProtoJsonFormatter.WriteMessage(response, binding.Method.OutputType, json, ProtoJsonOptions.Default);
            json.Flush();
            return wire.WrittenSpan.Length + output.WrittenCount;
        }

        for (var i = 0; i < 100; i++)
        {
            Call();
        }

        const int Calls = 1000;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Calls; i++)
        {
            Call();
        }

        var perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Calls;

        Assert.Equal("{\"id\":\"7\",\"theme\":\"Science fiction\",\"archived\":true}", System.Text.Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal(7, GetShelfRequest.Parser.ParseFrom(wire.WrittenSpan).Shelf);
        // The one allocation left: the path variable's text ("7"), which goes through the JSON parser as a string.
        Assert.True(perCall <= 64, $"the codec allocated {perCall:F1} bytes per call");
    }
}
