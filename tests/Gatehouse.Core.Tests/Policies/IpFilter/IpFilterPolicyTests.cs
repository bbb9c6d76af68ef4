using System.Net;
using Gatehouse.Policies.IpFilter;

namespace Gatehouse.Core.Tests.Policies.IpFilter;

public class IpFilterPolicyTests
{
    private static IpFilterPolicy Policy(string[] allow, string[] deny) => IpFilterPolicy.Compile(new IpFilterOptions { Allow = allow, Deny = deny })!;

    [Theory]
    [InlineData("10.1.2.3", true)]
    [InlineData("10.9.0.1", false)]   // deny wins over allow
    [InlineData("192.0.2.1", false)]  // not on the allow list
    [InlineData("::ffff:10.1.2.3", true)] // IPv4-mapped IPv6 matches IPv4 ranges
    [InlineData("2001:db8::1", true)]
    [InlineData("2001:db9::1", false)]
    public void Allows_AllowAndDeny_DenyWins(string address, bool expected) =>
        Assert.Equal(expected, Policy(["10.0.0.0/8", "2001:db8::/32"], ["10.9.0.0/16"]).Allows(IPAddress.Parse(address)));

    [Fact]
    public void Allows_DenyOnly_AllowsEverythingElse()
    {
        var policy = Policy([], ["203.0.113.7"]);
        Assert.False(policy.Allows(IPAddress.Parse("203.0.113.7")));
        Assert.True(policy.Allows(IPAddress.Parse("203.0.113.8")));
    }

    [Fact]
    public void Allows_MappedRangeInConfig_MatchesIPv4Client()
    {
        var policy = Policy([], ["::ffff:192.0.2.0/120"]);
        Assert.False(policy.Allows(IPAddress.Parse("192.0.2.9")));
        Assert.False(policy.Allows(IPAddress.Parse("::ffff:192.0.2.9")));
    }

    [Fact]
    public void Allows_UnknownAddress_Refused() => Assert.False(Policy([], ["192.0.2.0/24"]).Allows(null));

    [Theory]
    [InlineData("10.0.0.0/8", true)]
    [InlineData("192.0.2.7", true)]
    [InlineData("2001:db8::/32", true)]
    [InlineData("10.0.0.0/33", false)]
    [InlineData("not-an-ip", false)]
    [InlineData("10.0.0.1/8", true)] // host bits set: masked, as nginx does
    public void TryParse_Cidr(string text, bool valid) => Assert.Equal(valid, IpRanges.TryParse(text, out _));
}
