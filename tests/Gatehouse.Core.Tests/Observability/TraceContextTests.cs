using System.Diagnostics;
using Gatehouse.Observability;

namespace Gatehouse.Core.Tests.Observability;

public class TraceContextTests
{
    [Fact]
    public void TryParse_ValidTraceparent_ReadsIdsAndSampledFlag()
    {
        Assert.True(TraceContext.TryParse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", out var parent, out var parentSpan));

        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", parent.TraceIdString());
        Assert.Equal(0x00f067aa0ba902b7UL, parentSpan);
        Assert.True(parent.Sampled);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7")]
    [InlineData("00-00000000000000000000000000000000-00f067aa0ba902b7-01")]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")]
    [InlineData("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")]
    [InlineData("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra")]
    [InlineData("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01")]
    public void TryParse_Malformed_False(string? header) => Assert.False(TraceContext.TryParse(header, out _, out _));

    [Fact]
    public void TryParse_LaterVersionWithMoreFields_ReadsTheFirstFour()
    {
        Assert.True(TraceContext.TryParse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-comes-next", out var parent, out _));
        Assert.False(parent.Sampled);
    }

    [Fact]
    public void ToTraceparent_RoundTripsThroughActivityContext()
    {
        var context = TraceContext.NewTrace();
        context.Sampled = true;
        var spanId = TraceContext.NewSpanId();

        var header = context.ToTraceparent(spanId);

        Assert.True(ActivityContext.TryParse(header, null, out var parsed));
        Assert.Equal(context.TraceIdString(), parsed.TraceId.ToHexString());
        Assert.Equal(spanId.ToString("x16", System.Globalization.CultureInfo.InvariantCulture), parsed.SpanId.ToHexString());
        Assert.Equal(ActivityTraceFlags.Recorded, parsed.TraceFlags);
    }

    [Fact]
    public void From_Activity_SameIds()
    {
        using var activity = new Activity("x");
        activity.SetIdFormat(ActivityIdFormat.W3C);
        activity.Start();

        var context = TraceContext.From(activity);

        Assert.Equal(activity.TraceId.ToHexString(), context.TraceIdString());
        Span<char> span = stackalloc char[16];
        context.FormatSpanId(span);
        Assert.Equal(activity.SpanId.ToHexString(), span.ToString());
    }
}
