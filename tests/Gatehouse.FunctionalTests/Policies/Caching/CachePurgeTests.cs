using System.Net;
using System.Text;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Caching;

/// <summary>POST /cache/purge on the admin listener: by URL (all variants), by path prefix, by tag.</summary>
public class CachePurgeTests
{
    internal static async Task<int> PurgeAsync(TestGateway gateway, string json)
    {
        using var response = await gateway.Admin!.PostAsync("/cache/purge", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("purged").GetInt32();
    }

    private static async Task<CachingBackend> BackendAsync()
    {
        var backend = await CachingBackend.StartAsync();
        backend.Answer("/catalog/1", "one {n}", 200, ("Cache-Control", "max-age=60"), ("Surrogate-Key", "product-1 catalog"));
        backend.Answer("/catalog/2", "two {n}", 200, ("Cache-Control", "max-age=60"), ("Surrogate-Key", "product-2 catalog"));
        backend.Answer("/other", "other {n}", 200, ("Cache-Control", "max-age=60"));
        return backend;
    }

    private static async Task FillAsync(TestGateway gateway)
    {
        foreach (var path in new[] { "/catalog/1", "/catalog/1?page=2", "/catalog/2", "/other" })
        {
            (await gateway.Client.GetAsync(path)).Dispose();
        }
    }

    [Fact]
    public async Task PurgeByUrl_RemovesEveryVariantOfThatUrl_Only()
    {
        await using var backend = await BackendAsync();
        await using var gateway = await TestGateway.StartAsync(ResponseCacheTests.Config(backend));
        await FillAsync(gateway);

        var purged = await PurgeAsync(gateway, $$"""{"url": "{{gateway.Url}}catalog/1"}""");

        Assert.Equal(2, purged);
        Assert.Equal("one 3", await gateway.Client.GetStringAsync("/catalog/1"));
        Assert.Equal("two 1", await gateway.Client.GetStringAsync("/catalog/2"));
    }

    [Fact]
    public async Task PurgeByPrefix_RemovesEverythingUnderIt()
    {
        await using var backend = await BackendAsync();
        await using var gateway = await TestGateway.StartAsync(ResponseCacheTests.Config(backend));
        await FillAsync(gateway);

        var purged = await PurgeAsync(gateway, """{"prefix": "/catalog/"}""");

        Assert.Equal(3, purged);
        Assert.Equal("two 2", await gateway.Client.GetStringAsync("/catalog/2"));
        Assert.Equal("other 1", await gateway.Client.GetStringAsync("/other"));
    }

    [Fact]
    public async Task PurgeByTag_RemovesTaggedEntries()
    {
        await using var backend = await BackendAsync();
        await using var gateway = await TestGateway.StartAsync(ResponseCacheTests.Config(backend));
        await FillAsync(gateway);

        var purged = await PurgeAsync(gateway, """{"tag": "product-2"}""");

        Assert.Equal(1, purged);
        Assert.Equal("two 2", await gateway.Client.GetStringAsync("/catalog/2"));
        Assert.Equal("one 1", await gateway.Client.GetStringAsync("/catalog/1"));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"url": "not a url"}""")]
    [InlineData("""{"prefix": "catalog"}""")]
    [InlineData("[1]")]
    [InlineData("nonsense")]
    public async Task Purge_NamingNothingValid_400(string json)
    {
        await using var backend = await BackendAsync();
        await using var gateway = await TestGateway.StartAsync(ResponseCacheTests.Config(backend));

        using var response = await gateway.Admin!.PostAsync("/cache/purge", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
