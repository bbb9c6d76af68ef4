using Gatehouse.Core.Tests.Common;
using Gatehouse.Policies.Caching;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Core.Tests.Policies.Caching;

/// <summary>RFC 9111 section 4.2: freshness lifetime (4.2.1) and age (4.2.3), on virtual time.</summary>
public class FreshnessTests
{
    private static readonly CachePolicy Policy = CachePolicy.For(new RouteCacheOptions { Ttl = TimeSpan.FromSeconds(30), StaleIfError = TimeSpan.FromMinutes(5) });

    private static string Http(DateTimeOffset at) => at.ToString("r");

    public static TheoryData<string, string, int, int?> Lifetimes() => new()
    {
        // Cache-Control, Expires (seconds after Date, or "" for none, "bad" for invalid), status, expected lifetime (null: not storable)
        { "s-maxage=120, max-age=60", "", 200, 120 },
        { "max-age=60", "+600", 200, 60 },
        { "", "+600", 200, 600 },
        { "", "-600", 200, 0 },
        { "", "bad", 200, 0 },
        { "", "", 200, 30 },
        { "", "", 404, 30 },
        { "", "", 500, null },
        { "public", "", 500, 30 },
        { "max-age=10", "", 500, 10 },
    };

    [Theory]
    [MemberData(nameof(Lifetimes))]
    public void Lifetime_FollowsSection421(string cacheControl, string expires, int status, int? expected)
    {
        var time = new ManualTime();
        var date = time.Now;
        var expiresHeader = expires switch
        {
            "" => StringValues.Empty,
            "bad" => new StringValues("0"),
            _ => new StringValues(Http(date.AddSeconds(int.Parse(expires, System.Globalization.CultureInfo.InvariantCulture)))),
        };

        var freshness = Freshness.Compute(CacheControl.Parse(cacheControl), status, date, expiresHeader, default, time.Now, time.Now, Policy);

        Assert.Equal(expected, freshness is { } f ? (int)f.Lifetime.TotalSeconds : null);
    }

    [Theory]
    [InlineData("", false, null)]
    [InlineData("public", false, null)]
    [InlineData("max-age=10", false, 10)]
    [InlineData("", true, null)]
    [InlineData("public, max-age=10", true, 30)]
    public void RequestWithCredentials_RouteTtlNeverStandsInForTheBackend(string cacheControl, bool overrideTtl, int? expected)
    {
        var time = new ManualTime();
        var policy = CachePolicy.For(new RouteCacheOptions { Ttl = TimeSpan.FromSeconds(30), OverrideTtl = overrideTtl });

        var freshness = Freshness.Compute(CacheControl.Parse(cacheControl), 200, time.Now, default, default, time.Now, time.Now, policy, credentialed: true);

        Assert.Equal(expected, freshness is { } f ? (int)f.Lifetime.TotalSeconds : null);
    }

    [Theory]
    [InlineData("7200", 7200)]
    [InlineData("7200, 0", 7200)]
    [InlineData(" 30 ,5", 30)]
    public void Age_ListValue_FirstValueCounts(string age, int expected)
    {
        var time = new ManualTime();

        var freshness = Freshness.Compute(CacheControl.Parse("max-age=10000"), 200, time.Now, default, new StringValues(age), time.Now, time.Now, Policy)!.Value;

        Assert.Equal(expected, (int)freshness.InitialAge.TotalSeconds);
    }

    [Theory]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sunday, 06-Nov-94 08:49:37 GMT")]
    [InlineData("Sun Nov  6 08:49:37 1994")]
    [InlineData("Sun, 06 Nov 1994 08:49:37 gmt")]
    public void Expires_EveryHttpDateFormat_Accepted(string expires)
    {
        var date = new DateTimeOffset(1994, 11, 6, 8, 48, 37, TimeSpan.Zero);

        var freshness = Freshness.Compute(CacheControl.Parse(""), 200, date, new StringValues(expires), default, date, date, Policy)!.Value;

        Assert.Equal(60, (int)freshness.Lifetime.TotalSeconds);
    }

    [Fact]
    public void OverrideTtl_ReplacesTheBackendsFreshness()
    {
        var time = new ManualTime();
        var policy = CachePolicy.For(new RouteCacheOptions { Ttl = TimeSpan.FromMinutes(10), OverrideTtl = true });

        var freshness = Freshness.Compute(CacheControl.Parse("max-age=5"), 200, time.Now, default, default, time.Now, time.Now, policy);

        Assert.Equal(TimeSpan.FromMinutes(10), freshness!.Value.Lifetime);
    }

    [Theory]
    // Age header, Date behind response_time (s), request→response delay (s), resident time (s), expected current age (s)
    [InlineData(0, 0, 0, 0, 0)]
    [InlineData(0, 0, 0, 25, 25)]
    [InlineData(10, 0, 0, 0, 10)]
    [InlineData(10, 0, 2, 0, 12)]
    [InlineData(0, 15, 0, 0, 15)]
    [InlineData(5, 15, 1, 3, 18)]
    [InlineData(20, 15, 1, 3, 24)]
    public void CurrentAge_FollowsSection423(int ageHeader, int dateBehind, int delay, int resident, int expected)
    {
        var time = new ManualTime();
        var requestTime = time.Now;
        time.Advance(TimeSpan.FromSeconds(delay));
        var responseTime = time.Now;
        var freshness = Freshness.Compute(CacheControl.Parse("max-age=100"), 200, responseTime.AddSeconds(-dateBehind), default,
            ageHeader == 0 ? default : new StringValues(ageHeader.ToString(System.Globalization.CultureInfo.InvariantCulture)), requestTime, responseTime, Policy)!.Value;
        var entry = Entry(freshness);
        time.Advance(TimeSpan.FromSeconds(resident));

        Assert.Equal(TimeSpan.FromSeconds(expected), entry.CurrentAge(time.Now));
    }

    [Fact]
    public void DateInTheFuture_ApparentAgeIsZero()
    {
        var time = new ManualTime();
        var freshness = Freshness.Compute(CacheControl.Parse("max-age=100"), 200, time.Now.AddHours(1), default, default, time.Now, time.Now, Policy)!.Value;

        Assert.Equal(TimeSpan.Zero, freshness.InitialAge);
    }

    [Fact]
    public void Directives_StaleAllowancesAndRevalidation()
    {
        var time = new ManualTime();
        var fromBackend = Freshness.Compute(CacheControl.Parse("max-age=1, stale-while-revalidate=7, stale-if-error=9"), 200, time.Now, default, default, time.Now, time.Now, Policy)!.Value;
        var fromRoute = Freshness.Compute(CacheControl.Parse("max-age=1"), 200, time.Now, default, default, time.Now, time.Now, Policy)!.Value;
        var shared = Freshness.Compute(CacheControl.Parse("s-maxage=1"), 200, time.Now, default, default, time.Now, time.Now, Policy)!.Value;
        var noCache = Freshness.Compute(CacheControl.Parse("no-cache"), 200, time.Now, default, default, time.Now, time.Now, Policy)!.Value;

        Assert.Equal((TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(9)), (fromBackend.StaleWhileRevalidate, fromBackend.StaleIfError));
        Assert.Equal((TimeSpan.Zero, TimeSpan.FromMinutes(5)), (fromRoute.StaleWhileRevalidate, fromRoute.StaleIfError));
        Assert.True(shared.MustRevalidate);
        Assert.True(noCache.NoCache);
    }

    internal static CachedResponse Entry(Freshness freshness, string key = "k", int bodyBytes = 0, string path = "/p", string[]? tags = null) => new()
    {
        Key = key,
        Status = 200,
        HeaderNames = [],
        HeaderValues = [],
        Body = new byte[bodyBytes],
        Freshness = freshness,
        Origin = "http://h",
        Path = path,
        Tags = tags ?? [],
        Size = bodyBytes + 100,
    };
}
