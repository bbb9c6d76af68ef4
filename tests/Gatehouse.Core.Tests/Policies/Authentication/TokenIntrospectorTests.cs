using System.Text.Json;
using Gatehouse.Policies.Authentication;

namespace Gatehouse.Core.Tests.Policies.Authentication;

public class TokenIntrospectorTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly long NowSeconds = Now.ToUnixTimeSeconds();

    private static bool IsActive(string json, out DateTimeOffset? expires)
    {
        using var answer = JsonDocument.Parse(json.Replace("NOW", NowSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        return TokenIntrospector.IsActive(answer.RootElement, Now, TimeSpan.FromSeconds(30), ["urn:gateway"], out expires);
    }

    [Theory]
    [InlineData("""{"active": true}""")]
    [InlineData("""{"active": true, "exp": NOW}""")]
    [InlineData("""{"active": true, "exp": 1e300}""")]
    [InlineData("""{"active": true, "nbf": NOW}""")]
    [InlineData("""{"active": true, "aud": "urn:gateway"}""")]
    [InlineData("""{"active": true, "aud": [1, null, {}, "urn:gateway"]}""")]
    public void IsActive_Valid_True(string json) => Assert.True(IsActive(json, out _));

    [Theory]
    [InlineData("""{"active": false}""")]
    [InlineData("""{"active": "true"}""")]
    [InlineData("""{}""")]
    [InlineData("""[]""")]
    [InlineData("""{"active": true, "exp": 0}""")]
    [InlineData("""{"active": true, "exp": -1e300}""")]
    [InlineData("""{"active": true, "exp": "NOW"}""")]
    [InlineData("""{"active": true, "exp": null}""")]
    [InlineData("""{"active": true, "nbf": "NOW"}""")]
    [InlineData("""{"active": true, "aud": [123]}""")]
    [InlineData("""{"active": true, "aud": 123}""")]
    [InlineData("""{"active": true, "aud": {"aud": "urn:gateway"}}""")]
    [InlineData("""{"active": true, "aud": ["urn:other"]}""")]
    public void IsActive_InactiveOrMalformed_False(string json) => Assert.False(IsActive(json, out _));

    [Theory]
    [InlineData(-29, true)]
    [InlineData(-30, false)]
    [InlineData(-31, false)]
    public void IsActive_Exp_WithSkew(int offset, bool expected) =>
        Assert.Equal(expected, IsActive($$"""{"active": true, "exp": {{NowSeconds + offset}}}""", out _));

    [Theory]
    [InlineData(30, true)]
    [InlineData(31, false)]
    public void IsActive_Nbf_WithSkew(int offset, bool expected) =>
        Assert.Equal(expected, IsActive($$"""{"active": true, "nbf": {{NowSeconds + offset}}}""", out _));

    [Fact]
    public void IsActive_Exp_GivenForTheCache()
    {
        Assert.True(IsActive($$"""{"active": true, "exp": {{NowSeconds + 60}}}""", out var expires));

        Assert.Equal(Now.AddSeconds(60), expires);
    }
}
