using System.Net;
using Gatehouse.Admin;

namespace Gatehouse.Core.Tests.Admin;

public class AdminRequestGuardTests
{
    private static readonly IPAddress Local = IPAddress.Loopback;

    [Theory]
    [InlineData("127.0.0.1:9901", true)]
    [InlineData("localhost:9901", true)]
    [InlineData("LOCALHOST:9901", true)]
    [InlineData("[::1]:9901", true)]
    [InlineData("admin.internal:9901", true)]
    [InlineData("tunnel.example:8443", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.0.0.1:9902", false)]
    [InlineData("127.0.0.2:9901", false)]
    [InlineData("attacker.example:9901", false)]
    [InlineData("localhost.attacker.example:9901", false)]
    [InlineData("tunnel.example:9901", false)]
    [InlineData("admin.internal:8443", false)]
    [InlineData("", false)]
    [InlineData("[::1", false)]
    [InlineData("localhost:", false)]
    [InlineData("localhost:99x", false)]
    public void IsAllowedHost_OwnNamesAndConfiguredOnes(string host, bool expected) =>
        Assert.Equal(expected, AdminRequestGuard.IsAllowedHost(host, Local, 9901, ["admin.internal", "tunnel.example:8443"]));

    [Fact]
    public void IsAllowedHost_NoPortOnlyOnPort80() =>
        Assert.True(AdminRequestGuard.IsAllowedHost("localhost", Local, 80, []));

    [Fact]
    public void IsAllowedHost_ConnectionLocalAddress_IPv4MappedToo() =>
        Assert.True(AdminRequestGuard.IsAllowedHost("127.0.0.5:9901", IPAddress.Parse("::ffff:127.0.0.5"), 9901, []));

    [Theory]
    [InlineData(null, "", false)]
    [InlineData("http://127.0.0.1:9901", "same-origin", false)]
    [InlineData("HTTP://LOCALHOST:9901", "", false)]
    [InlineData(null, "none", false)]
    [InlineData(null, "cross-site", true)]
    [InlineData(null, "Cross-Site", true)]
    [InlineData("https://attacker.example", "", true)]
    [InlineData("http://localhost:3000", "same-site", true)]
    [InlineData("null", "", true)]
    [InlineData("", "", true)]
    [InlineData("http://127.0.0.1:9901/", "", true)]
    public void IsCrossSite_ForeignOriginOrFetchSite(string? origin, string fetchSite, bool expected) =>
        Assert.Equal(expected, AdminRequestGuard.IsCrossSite(origin, origin is not null, fetchSite, origin?.StartsWith("HTTP", StringComparison.Ordinal) == true ? "localhost:9901" : "127.0.0.1:9901"));

    [Theory]
    [InlineData("application/json", true)]
    [InlineData("Application/JSON; charset=utf-8", true)]
    [InlineData(" application/json ;charset=utf-8", true)]
    [InlineData("text/plain", false)]
    [InlineData("application/x-www-form-urlencoded", false)]
    [InlineData("application/jsonp", false)]
    [InlineData("", false)]
    public void IsJson_MediaTypeOnly(string contentType, bool expected) =>
        Assert.Equal(expected, AdminRequestGuard.IsJson(contentType));

    [Theory]
    [InlineData("admin.internal")]
    [InlineData("localhost:8443")]
    [InlineData("10.0.0.5")]
    [InlineData("[::1]:9000")]
    public void Accepts_AllowedHost(string entry) => Assert.True(AdminRequestGuard.IsValidAllowedHost(entry));

    [Theory]
    [InlineData("")]
    [InlineData("*")]
    [InlineData("http://admin.internal")]
    [InlineData("admin.internal/")]
    [InlineData("admin internal")]
    [InlineData("admin.internal:0")]
    [InlineData("admin.internal:70000")]
    [InlineData("[not-v6]")]
    [InlineData("::1")]
    public void Rejects_MalformedAllowedHost(string entry) => Assert.False(AdminRequestGuard.IsValidAllowedHost(entry));
}
