using Gatehouse.Errors;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Core.Tests.Errors;

public class RequestIdsTests
{
    [Theory]
    [InlineData("abc-123", true)]
    [InlineData("0HN8:00000001", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("line\nbreak", false)]
    [InlineData("quote\"", false)]
    public void IsWellFormed_AcceptsOnlyShortVisibleAscii(string id, bool expected) =>
        Assert.Equal(expected, RequestIds.IsWellFormed(id));

    [Fact]
    public void IsWellFormed_TooLong_Refused() => Assert.False(RequestIds.IsWellFormed(new string('a', 129)));

    [Fact]
    public void Apply_ClientId_IsKept()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["X-Request-Id"] = "client-1";

        RequestIds.Apply(context);

        Assert.Equal("client-1", context.TraceIdentifier);
        Assert.True(RequestIds.IsClientId(context));
    }

    [Fact]
    public void Apply_MalformedClientId_IsReplaced()
    {
        var context = new DefaultHttpContext { TraceIdentifier = "generated" };
        context.Request.Headers["X-Request-Id"] = "bad id";

        RequestIds.Apply(context);

        Assert.Equal("generated", context.TraceIdentifier);
        Assert.False(RequestIds.IsClientId(context));
    }
}
