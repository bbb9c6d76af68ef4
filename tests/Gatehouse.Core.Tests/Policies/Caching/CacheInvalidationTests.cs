using Gatehouse.Policies.Caching;

namespace Gatehouse.Core.Tests.Policies.Caching;

/// <summary>RFC 9111 4.4: which methods invalidate, and which Location / Content-Location URLs may be invalidated.</summary>
public class CacheInvalidationTests
{
    [Theory]
    [InlineData("POST", true)]
    [InlineData("PUT", true)]
    [InlineData("DELETE", true)]
    [InlineData("PATCH", true)]
    [InlineData("PURGE", true)]
    [InlineData("GET", false)]
    [InlineData("HEAD", false)]
    [InlineData("OPTIONS", false)]
    [InlineData("TRACE", false)]
    public void IsUnsafe_EveryMethodButTheSafeOnes(string method, bool expected) => Assert.Equal(expected, CacheInvalidation.IsUnsafe(method));

    [Theory]
    [InlineData("/items/7", "/items/7")]
    [InlineData("7", "/items/7")]
    [InlineData("http://api.example:8080/items/7", "/items/7")]
    [InlineData("http://API.example:8080/caf%C3%A9", "/café")]
    [InlineData("http://other.example:8080/items/7", null)]
    [InlineData("https://api.example:8080/items/7", null)]
    [InlineData("http://api.example:9090/items/7", null)]
    [InlineData("/items/", null)]
    [InlineData("", null)]
    [InlineData("mailto:a@b", null)]
    public void SameOriginPath_OnlyUrlsOfTheRequestsOrigin(string reference, string? expected) =>
        Assert.Equal(expected, CacheInvalidation.SameOriginPath("http://api.example:8080", "/items/", reference));
}
