using Gatehouse.Policies.Caching;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Core.Tests.Policies.Caching;

/// <summary>
/// RFC 9111 section 4 as a decision table: a stored response (described by the backend's Cache-Control), how long
/// it has been stored, the request's directives and method, and what the lookup decides. Virtual time: the entry is
/// stored at <see cref="StoredAt"/> and looked up that many seconds later.
/// </summary>
public class CacheLookupTests
{
    private static readonly DateTimeOffset StoredAt = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // No stale allowances of the route's own: every one in the table comes from the backend's directives.
    private static readonly CachePolicy Policy = CachePolicy.For(new RouteCacheOptions { Ttl = TimeSpan.FromSeconds(30) });

    private static CachedResponse Stored(string cacheControl, string age = "") =>
        FreshnessTests.Entry(Freshness.Compute(CacheControl.Parse(cacheControl), 200, StoredAt, default, age == "" ? default : new StringValues(age), StoredAt, StoredAt, Policy)!.Value);

    // The decision by name: the enum is internal, and a public theory cannot take it as a parameter.
    private static string Decide(CachedResponse? entry, int secondsLater, string requestCacheControl, string method, bool conditional = false) =>
        CacheLookup.Decide(entry, CacheControl.Parse(requestCacheControl), StoredAt.AddSeconds(secondsLater), method == "GET", conditional).ToString();

    public static TheoryData<string, int, string, string, string> StoredEntries() => new()
    {
        // backend's Cache-Control, seconds since stored, request's Cache-Control, method, decision

        // Fresh while age < lifetime; a stale HEAD goes on as it is (its bodiless answer is no entry for the GET).
        { "max-age=60", 0, "", "GET", "Fresh" },
        { "max-age=60", 59, "", "GET", "Fresh" },
        { "max-age=60", 60, "", "GET", "Revalidate" },
        { "max-age=60", 59, "", "HEAD", "Fresh" },
        { "max-age=60", 60, "", "HEAD", "Forward" },

        // The client's max-age (age at most) and min-fresh (fresh for at least that much longer).
        { "max-age=60", 10, "max-age=10", "GET", "Fresh" },
        { "max-age=60", 11, "max-age=10", "GET", "Revalidate" },
        { "max-age=60", 50, "min-fresh=10", "GET", "Fresh" },
        { "max-age=60", 51, "min-fresh=10", "HEAD", "Forward" },
        // As the cache has always done, not as RFC 9111 5.2.1.3 asks: a GET whose min-fresh the still-fresh entry
        // misses is served it while a background refresh runs (its staleness, negative, is inside any window, even none).
        { "max-age=60", 51, "min-fresh=10", "GET", "StaleWhileRevalidate" },

        // no-cache: the client's is revalidated for it alone; the backend's is shared, and even a fresh entry is revalidated.
        { "max-age=60", 0, "no-cache", "GET", "RevalidateForClient" },
        { "max-age=60", 0, "no-cache", "HEAD", "Forward" },
        { "max-age=60, no-cache", 0, "", "GET", "Revalidate" },
        { "max-age=60, no-cache", 0, "max-stale", "GET", "Revalidate" },

        // max-stale: how stale the client accepts; never past must-revalidate (s-maxage implies it) or no-cache.
        { "max-age=60", 90, "max-stale=30", "GET", "StaleAccepted" },
        { "max-age=60", 91, "max-stale=30", "GET", "Revalidate" },
        { "max-age=60", 86400, "max-stale", "GET", "StaleAccepted" },
        { "max-age=60", 90, "max-stale=30", "HEAD", "StaleAccepted" },
        { "max-age=60, must-revalidate", 61, "max-stale", "GET", "Revalidate" },
        { "s-maxage=60", 61, "max-stale", "GET", "Revalidate" },
        { "max-age=60", 61, "max-stale, no-cache", "GET", "RevalidateForClient" },

        // only-if-cached: what may be served is served; otherwise 504, never the backend, whatever the entry allows.
        { "max-age=60", 10, "only-if-cached", "GET", "Fresh" },
        { "max-age=60", 61, "only-if-cached", "GET", "OnlyIfCached" },
        { "max-age=60", 61, "only-if-cached", "HEAD", "OnlyIfCached" },
        { "max-age=60", 61, "only-if-cached, max-stale", "GET", "StaleAccepted" },
        { "max-age=60, stale-while-revalidate=30", 61, "only-if-cached", "GET", "OnlyIfCached" },

        // stale-while-revalidate: served stale while staleness < the window, to GETs whose client does not bound the age.
        { "max-age=60, stale-while-revalidate=30", 61, "", "GET", "StaleWhileRevalidate" },
        { "max-age=60, stale-while-revalidate=30", 89, "", "GET", "StaleWhileRevalidate" },
        { "max-age=60, stale-while-revalidate=30", 90, "", "GET", "Revalidate" },
        { "max-age=60, stale-while-revalidate=30", 61, "", "HEAD", "Forward" },
        { "max-age=60, stale-while-revalidate=30", 61, "max-age=100", "GET", "Revalidate" },
        { "max-age=60, stale-while-revalidate=30", 61, "no-cache", "GET", "RevalidateForClient" },
        { "max-age=60, stale-while-revalidate=30, must-revalidate", 61, "", "GET", "Revalidate" },
        { "max-age=60, stale-while-revalidate=30, proxy-revalidate", 61, "", "GET", "Revalidate" },
    };

    [Theory]
    [MemberData(nameof(StoredEntries))]
    public void Decide_StoredEntry_FollowsTheTable(string backend, int secondsLater, string request, string method, string expected) =>
        Assert.Equal(expected, Decide(Stored(backend), secondsLater, request, method));

    [Theory]
    // request's Cache-Control, method, the request has validators or a Range, decision
    [InlineData("", "GET", false, "Fetch")]
    [InlineData("no-cache", "GET", false, "Fetch")]
    [InlineData("max-stale", "GET", false, "Fetch")]
    [InlineData("", "HEAD", false, "Forward")]
    [InlineData("", "GET", true, "Forward")]
    [InlineData("only-if-cached", "GET", false, "OnlyIfCached")]
    [InlineData("only-if-cached", "HEAD", true, "OnlyIfCached")]
    public void Decide_NothingStored_FetchesForwardsOrAnswers504(string request, string method, bool conditional, string expected) =>
        Assert.Equal(expected, Decide(null, 0, request, method, conditional));

    [Theory]
    // the Age the response arrived with counts towards its age: max-age=60 arriving 50 s old is fresh for 10 s more
    [InlineData(9, "Fresh")]
    [InlineData(10, "Revalidate")]
    public void Decide_ArrivedWithAnAge_CountsItTowardsFreshness(int secondsLater, string expected) =>
        Assert.Equal(expected, Decide(Stored("max-age=60", age: "50"), secondsLater, "", "GET"));

    [Fact]
    public void Decide_ConditionalRequestWithAnEntry_DecidesByTheEntryAlone()
    {
        var entry = Stored("max-age=60");

        // A conditional request on a stored entry is answered from it (the writer then checks the validators).
        Assert.Equal(nameof(CacheDecision.Fresh), Decide(entry, 10, "", "GET", conditional: true));
        Assert.Equal(nameof(CacheDecision.Revalidate), Decide(entry, 61, "", "GET", conditional: true));
    }

    [Theory]
    // request headers (Cache-Control | Pragma), read as no-cache
    [InlineData("", "no-cache", true)]
    [InlineData("", "No-Cache", true)]
    [InlineData("", "foo", false)]
    [InlineData("max-age=5", "no-cache", false)]
    [InlineData("no-cache", "", true)]
    [InlineData("", "", false)]
    public void ForRequest_PragmaNoCache_CountsOnlyWithoutCacheControl(string cacheControl, string pragma, bool noCache)
    {
        IHeaderDictionary headers = new HeaderDictionary();
        if (cacheControl != "")
        {
            headers.CacheControl = cacheControl;
        }

        if (pragma != "")
        {
            headers.Pragma = pragma;
        }

        Assert.Equal(noCache, CacheControl.ForRequest(headers).NoCache);
    }
}
