using Gatehouse.Core.Tests.Common;
using Gatehouse.Policies.Caching;

namespace Gatehouse.Core.Tests.Policies.Caching;

public class MemoryCacheStoreTests
{
    private static CachedResponse Entry(string key, int bytes, string path = "/p", string[]? tags = null)
    {
        var time = new ManualTime();
        var freshness = new Freshness(time.Now, time.Now, TimeSpan.Zero, TimeSpan.FromMinutes(1), TimeSpan.Zero, TimeSpan.Zero, false, false);
        return FreshnessTests.Entry(freshness, key, bytes, path, tags);
    }

    [Fact]
    public void Set_PastTheByteBound_EvictsLeastRecentlyUsedFirst()
    {
        var store = new MemoryCacheStore(10_000);
        var a = Entry("a", 2900);
        var b = Entry("b", 2900);
        var c = Entry("c", 2900);
        store.Set(a);
        store.Set(b);
        store.Set(c);
        a.LastAccess = 1;
        b.LastAccess = 3;
        c.LastAccess = 2;

        store.Set(Entry("d", 2900));

        Assert.True(store.Bytes <= 10_000);
        Assert.False(store.TryGet("a", out _));
        Assert.True(store.TryGet("b", out _));
        Assert.True(store.TryGet("d", out _));
    }

    [Fact]
    public void Set_EntryLargerThanTheBound_NotStored()
    {
        var store = new MemoryCacheStore(1000);

        store.Set(Entry("big", 5000));

        Assert.Equal((0, 0L), (store.Count, store.Bytes));
    }

    [Fact]
    public void Set_Replacing_AccountsBytesOnce()
    {
        var store = new MemoryCacheStore(100_000);

        store.Set(Entry("a", 1000));
        store.Set(Entry("a", 3000));

        Assert.Equal((1, 3100L), (store.Count, store.Bytes));
    }

    [Fact]
    public void TryGet_BySpan_FindsTheStringKey()
    {
        var store = new MemoryCacheStore(100_000);
        var entry = Entry("route\nGET\nhttp\nh\n/p\n", 10);
        store.Set(entry);

        var buffer = "xxroute\nGET\nhttp\nh\n/p\nyy".ToCharArray();

        Assert.True(store.TryGet(buffer.AsSpan(2, entry.Key.Length), out var found));
        Assert.Same(entry, found);
    }

    [Fact]
    public async Task Purge_ByPrefixTagAndUrl_RemovesOnlyMatches()
    {
        var store = new MemoryCacheStore(100_000);
        store.Set(Entry("1", 10, "/catalog/1", ["p1"]));
        store.Set(Entry("2", 10, "/catalog/2", ["p2"]));
        store.Set(Entry("3", 10, "/other", ["p1"]));

        Assert.Equal(1, await store.PurgeAsync(new CachePurge(null, null, null, "p2")));
        Assert.Equal(1, await store.PurgeAsync(new CachePurge(null, null, "/catalog/", null)));
        Assert.Equal(0, await store.PurgeAsync(new CachePurge("http://other", "/other", null, null)));
        Assert.Equal(1, await store.PurgeAsync(new CachePurge("http://h", "/other", null, null)));
        Assert.Equal((0, 0L), (store.Count, store.Bytes));
    }

    [Fact]
    public void RedisSerialization_RoundTrips()
    {
        var time = new ManualTime();
        var original = new CachedResponse
        {
            Key = "route\nGET\nhttp\nh\n/p\n",
            Status = 203,
            HeaderNames = ["Content-Type", "X-Many"],
            HeaderValues = ["text/plain", new(["a", "b"])],
            Body = [1, 2, 3],
            Freshness = new Freshness(time.Now, time.Now.AddSeconds(1), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(6), MustRevalidate: true, NoCache: false),
            ETag = "\"e\"",
            LastModified = null,
            VaryNames = ["Accept"],
            VaryValues = ["text/html"],
            Tags = ["t1", "t2"],
            Origin = "http://h",
            Path = "/p",
        };

        var copy = RedisCacheStore.Deserialize(RedisCacheStore.Serialize(original))!;

        Assert.Equal((original.Key, original.Status, original.ETag, original.LastModified, original.Origin, original.Path), (copy.Key, copy.Status, copy.ETag, copy.LastModified, copy.Origin, copy.Path));
        Assert.Equal(original.HeaderNames, copy.HeaderNames);
        Assert.Equal(original.HeaderValues, copy.HeaderValues);
        Assert.Equal(original.Body, copy.Body);
        Assert.Equal((original.RequestTime, original.ResponseTime, original.InitialAge, original.FreshnessLifetime), (copy.RequestTime, copy.ResponseTime, copy.InitialAge, copy.FreshnessLifetime));
        Assert.Equal((original.StaleWhileRevalidate, original.StaleIfError, original.MustRevalidate, original.NoCache), (copy.StaleWhileRevalidate, copy.StaleIfError, copy.MustRevalidate, copy.NoCache));
        Assert.Equal(original.VaryNames, copy.VaryNames);
        Assert.Equal(original.VaryValues, copy.VaryValues);
        Assert.Equal(original.Tags, copy.Tags);
    }
}
