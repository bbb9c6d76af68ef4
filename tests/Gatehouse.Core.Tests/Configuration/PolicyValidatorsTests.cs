using Gatehouse.Configuration;
using Gatehouse.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Core.Tests.Configuration;

public class PolicyValidatorsTests
{
    [Fact]
    public void Services_EveryPolicyUnit_RegistersItsValidator()
    {
        var names = GatewayPipeline.StandaloneServices.GetServices<IGatewayOptionsValidator>().Select(v => v.GetType().Name).ToHashSet();

        Assert.Superset(new HashSet<string>
        {
            "TrustedProxiesOptionsValidator", "IpFilterOptionsValidator", "PathDenyOptionsValidator", "IdentityOptionsValidator",
            "RateLimitOptionsValidator", "ResponseCacheOptionsValidator", "ResilienceOptionsValidator", "GrpcOptionsValidator",
            "RequestHeadersOptionsValidator",
        }, names);
    }

    [Theory]
    [InlineData("X-Request-Id")]
    [InlineData("Surrogate-Key")]
    [InlineData("x_underscore")]
    [InlineData("A!#$%&'*+-.^`|~9")]
    public void IsHeaderName_Accepts_Tokens(string name) => Assert.True(ValueParsers.IsHeaderName(name));

    [Theory]
    [InlineData("")]
    [InlineData("X Space")]
    [InlineData("X:Colon")]
    [InlineData("X(Paren)")]
    [InlineData("X/Slash")]
    [InlineData("Ünicode")]
    [InlineData("X\tTab")]
    public void IsHeaderName_Rejects_NonTokens(string name) => Assert.False(ValueParsers.IsHeaderName(name));
}
