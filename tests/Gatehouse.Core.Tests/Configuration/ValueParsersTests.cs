using Gatehouse.Configuration;

namespace Gatehouse.Core.Tests.Configuration;

public class ValueParsersTests
{
    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("5s", 5000)]
    [InlineData("1m", 60_000)]
    [InlineData("1.5s", 1500)]
    [InlineData("2h", 7_200_000)]
    [InlineData(" 10S ", 10_000)]
    public void TryParseDuration_ValidText_ReturnsMilliseconds(string text, double expectedMs)
    {
        Assert.True(ValueParsers.TryParseDuration(text, out var value, out var error), error);
        Assert.Equal(expectedMs, value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("5", "needs a unit")]
    [InlineData("5 parsecs", "unknown unit")]
    [InlineData("fast", "not a duration")]
    [InlineData("ms", "not a duration")]
    [InlineData("100000000d", "too long")]
    public void TryParseDuration_InvalidText_ExplainsWhy(string text, string reason)
    {
        Assert.False(ValueParsers.TryParseDuration(text, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Theory]
    [InlineData("512", 512)]
    [InlineData("512B", 512)]
    [InlineData("8KB", 8192)]
    [InlineData("8kb", 8192)]
    [InlineData("10MB", 10 * 1024 * 1024)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("1.5KB", 1536)]
    public void TryParseSize_ValidText_ReturnsBytes(string text, long expected)
    {
        Assert.True(ValueParsers.TryParseSize(text, out var value, out var error), error);
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("10 furlongs")]
    [InlineData("big")]
    [InlineData("-1KB")]
    [InlineData("99999999999GB")]
    public void TryParseSize_InvalidText_Fails(string text)
    {
        Assert.False(ValueParsers.TryParseSize(text, out _, out var error));
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData("servics", "services")]
    [InlineData("Routes", "routes")]
    [InlineData("lisen", "listen")]
    public void Closest_NearMiss_SuggestsKnownKey(string key, string expected) =>
        Assert.Equal(expected, ValueParsers.Closest(key, ["listen", "admin", "limits", "services", "routes"]));

    [Fact]
    public void Closest_FarMiss_SuggestsNothing() =>
        Assert.Null(ValueParsers.Closest("plugins", ["listen", "admin", "limits", "services", "routes"]));
}
