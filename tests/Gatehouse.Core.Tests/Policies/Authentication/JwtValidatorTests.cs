using System.Text;
using Gatehouse.Policies.Authentication;

namespace Gatehouse.Core.Tests.Policies.Authentication;

public class JwtValidatorTests
{
    private static string Encode(string json) => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));

    [Theory]
    [InlineData("""{"alg":"RS256","crit":["urn:example:x"],"urn:example:x":1}""")]
    [InlineData("""{"crit":["exp"],"exp":1}""")]
    [InlineData("""{"alg":"RS256","crit":[]}""")]
    [InlineData("""{"alg":"RS256","crit":"b64"}""")]
    [InlineData("""{"alg":"RS256","cr\u0069t":["x"]}""")]
    [InlineData("""{"nested":{"a":[1,{"b":2}]},"crit":["x"]}""")]
    [InlineData("""["crit"]""")]
    [InlineData("""{"alg":""")]
    public void HasCriticalHeader_CritAnywhereAtTopLevelOrNotJson_True(string header) =>
        Assert.True(JwtValidator.HasCriticalHeader(Encode(header)));

    [Theory]
    [InlineData("""{"alg":"RS256","typ":"at+jwt","kid":"k1"}""")]
    [InlineData("""{"alg":"RS256","x":{"crit":["y"]},"critical":true,"kid":"crit"}""")]
    public void HasCriticalHeader_NoTopLevelCrit_False(string header) =>
        Assert.False(JwtValidator.HasCriticalHeader(Encode(header)));

    [Fact]
    public void HasCriticalHeader_NotBase64Url_True() => Assert.True(JwtValidator.HasCriticalHeader("not base64!"));
}
