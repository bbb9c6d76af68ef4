using System.Net;
using Gatehouse.Core.Tests.Common;
using Gatehouse.Policies.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Core.Tests.Policies.RateLimiting;

/// <summary>Security review M7 and L7: caller-chosen keys cost bounded memory, and IPv6 clients are keyed by prefix.</summary>
[Collection(MemoryMeasurements.Name)]
public class RateLimitKeyBoundsTests
{
    private static DefaultHttpContext Request(string ip = "203.0.113.7", string? tenant = null)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(ip);
        if (tenant is not null)
        {
            context.Request.Headers["X-Tenant"] = tenant;
        }

        return context;
    }

    [Fact]
    public void HeaderKey_LongValue_KeptAsAFixedSizeHash_SameValueSameKey()
    {
        var key = RateLimitKey.Compile(["header:X-Tenant"]);
        var long1 = new string('a', 16_000);
        var long2 = new string('a', 15_999) + "b";

        var first = Assert.IsType<string>(key.Resolve(Request(tenant: long1), "r"));
        var again = key.Resolve(Request(tenant: long1), "r");
        var other = key.Resolve(Request(tenant: long2), "r");

        Assert.Equal(23, first.Length);
        Assert.StartsWith("#", first, StringComparison.Ordinal);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal("acme", key.Resolve(Request(tenant: "acme"), "r"));
        Assert.Equal(new string('x', RateLimitKey.MaxValueLength), key.Resolve(Request(tenant: new string('x', RateLimitKey.MaxValueLength)), "r"));
    }

    [Fact]
    public void IpKey_Ipv6_KeyedByItsSlash64_Ipv4AsIs()
    {
        var key = RateLimitKey.Compile(["ip"]);

        Assert.Equal(IPAddress.Parse("2001:db8:1:2::"), key.Resolve(Request("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "r"));
        Assert.Equal(key.Resolve(Request("2001:db8:1:2::1"), "r"), key.Resolve(Request("2001:db8:1:2:ffff::9"), "r"));
        Assert.NotEqual(key.Resolve(Request("2001:db8:1:2::1"), "r"), key.Resolve(Request("2001:db8:1:3::1"), "r"));
        Assert.Equal(IPAddress.Parse("203.0.113.7"), key.Resolve(Request(), "r"));
        Assert.Equal(IPAddress.Parse("2001:db8:1:2::1"), RateLimitKey.Compile(["ip"], ipv6Prefix: 128).Resolve(Request("2001:db8:1:2::1"), "r"));
        Assert.Equal(IPAddress.Parse("2001:db8:f000::"), RateLimitKey.Prefix(IPAddress.Parse("2001:db8:ffff::1"), 36));
    }

    [Fact]
    public void MaxKeys_Exceeded_LeastRecentlyUsedForgottenAndCounted()
    {
        var time = new ManualTime();
        var counts = new RateLimitMetrics.DecisionCounts();
        var options = new RateLimitPolicyOptions { Name = "p", Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 1, Window = TimeSpan.FromHours(1), MaxKeys = 100 };
        var limiter = new MemoryRateLimiter(options, time, sweep: false, counts: counts);

        // 150 callers, each its own key, each using its whole quota (a fixed window holds them for the hour).
        for (var i = 0; i < 150; i++)
        {
            Assert.True(limiter.Acquire("tenant-" + i).Allowed);
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        limiter.Trim();

        Assert.InRange(limiter.Count, 1, 90);
        Assert.Equal(150 - limiter.Count, Interlocked.Read(ref counts.EvictedKeys));
        // The most recent keys kept their state; the oldest start again with a whole quota.
        Assert.False(limiter.Acquire("tenant-149").Allowed);
        Assert.True(limiter.Acquire("tenant-0").Allowed);
    }
}
