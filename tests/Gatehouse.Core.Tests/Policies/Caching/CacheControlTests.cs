using Gatehouse.Policies.Caching;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Core.Tests.Policies.Caching;

public class CacheControlTests
{
    [Fact]
    public void Parse_ResponseDirectives_EveryOneRead()
    {
        var c = CacheControl.Parse("public, max-age=60, s-maxage=\"120\", must-revalidate, proxy-revalidate, stale-while-revalidate=10, stale-if-error=300");

        Assert.True(c.Public && c.MustRevalidate && c.ProxyRevalidate);
        Assert.False(c.NoStore || c.NoCache || c.Private);
        Assert.Equal((60, 120, 10, 300), (c.MaxAge, c.SharedMaxAge, c.StaleWhileRevalidate, c.StaleIfError));
    }

    [Theory]
    [InlineData("no-store", "no-store")]
    [InlineData("NO-STORE", "no-store")]
    [InlineData("private", "private")]
    [InlineData("private=\"Set-Cookie, X-Other\"", "private")]
    [InlineData("no-cache", "no-cache")]
    [InlineData("no-cache=\"Set-Cookie\"", "no-cache")]
    [InlineData("only-if-cached", "only-if-cached")]
    public void Parse_Flags(string header, string flag)
    {
        var c = CacheControl.Parse(header);

        var set = flag switch
        {
            "no-store" => c.NoStore,
            "private" => c.Private,
            "no-cache" => c.NoCache,
            _ => c.OnlyIfCached,
        };
        Assert.True(set);
    }

    [Theory]
    [InlineData("max-age=abc", 0)]
    [InlineData("max-age=", 0)]
    [InlineData("max-age=-5", 0)]
    [InlineData("max-age=99999999999", 2147483648)]
    [InlineData("max-age = 30", 30)]
    [InlineData("", -1)]
    [InlineData("extension=\"a, max-age=5\", max-age=7", 7)]
    public void Parse_MaxAge_InvalidIsStale_HugeSaturates(string header, long expected) =>
        Assert.Equal(expected, CacheControl.Parse(header).MaxAge);

    [Fact]
    public void Parse_SeveralHeaderLines_Combined()
    {
        var c = CacheControl.Parse(new StringValues(["max-age=5", "no-cache"]));

        Assert.Equal(5, c.MaxAge);
        Assert.True(c.NoCache);
    }

    [Fact]
    public void Parse_RequestDirectives()
    {
        var c = CacheControl.Parse("max-stale, min-fresh=5");
        var bounded = CacheControl.Parse("max-stale=30");

        Assert.Equal((long.MaxValue, 5), (c.MaxStale, c.MinFresh));
        Assert.Equal(30, bounded.MaxStale);
    }
}
