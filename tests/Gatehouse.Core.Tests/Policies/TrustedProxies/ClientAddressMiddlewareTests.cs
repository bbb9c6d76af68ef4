using Gatehouse.Policies.TrustedProxies;
using System.Net;
using Gatehouse.Policies.IpFilter;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Core.Tests.Policies.TrustedProxies;

public class ClientAddressMiddlewareTests
{
    private static readonly IPNetwork[] Trusted = IpRanges.ParseAll(["10.0.0.0/8", "127.0.0.1"]);

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("203.0.113.7, 10.0.0.2", "203.0.113.7")]
    [InlineData("198.51.100.1, 203.0.113.7, 10.0.0.2", "203.0.113.7")] // right-most untrusted, not the spoofable left-most
    [InlineData("10.0.0.3, 10.0.0.2", "10.0.0.3")]                     // all trusted: the left-most
    [InlineData("203.0.113.7:4711", "203.0.113.7")]
    [InlineData("[2001:db8::1]:80", "2001:db8::1")]
    [InlineData("garbage, 203.0.113.7, 10.0.0.2", "203.0.113.7")]      // junk left of the client does not matter
    [InlineData("x, 192.0.2.5", "192.0.2.5")]                          // a client cannot hide behind junk
    public void Resolve_XForwardedFor(string header, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), ClientAddressMiddleware.Resolve(header, Trusted, forwarded: false));

    [Theory]
    [InlineData("203.0.113.7, garbage")]   // the deciding entry is junk: unknown, never the proxy itself
    [InlineData("unknown, 10.0.0.2")]
    public void Resolve_DecidingEntryNotAnAddress_Unknown(string header) =>
        Assert.Null(ClientAddressMiddleware.Resolve(header, Trusted, forwarded: false));

    [Fact]
    public void Resolve_TooManyTrustedHops_Unknown()
    {
        var header = "203.0.113.7, " + string.Join(", ", Enumerable.Repeat("10.0.0.2", ClientAddressMiddleware.MaxHops + 1));
        Assert.Null(ClientAddressMiddleware.Resolve(header, Trusted, forwarded: false));
    }

    [Theory]
    [InlineData("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60")]
    [InlineData("for=198.51.100.17, for=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17")]
    [InlineData("For=\"192.0.2.1:8080\", for=10.0.0.5", "192.0.2.1")]
    public void Resolve_Forwarded(string header, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), ClientAddressMiddleware.Resolve(new StringValues(header), Trusted, forwarded: true));

    [Theory]
    [InlineData("for=_hidden")]
    [InlineData("proto=https")]
    [InlineData("for=\"1.2.3.4,5.6.7.8\"")]
    public void Resolve_ForwardedWithoutAddress_Unknown(string header) =>
        Assert.Null(ClientAddressMiddleware.Resolve(header, Trusted, forwarded: true));
}
