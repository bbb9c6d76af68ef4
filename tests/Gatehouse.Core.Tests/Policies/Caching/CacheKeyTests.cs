using System.Security.Claims;
using Gatehouse.Policies.Authentication;
using Gatehouse.Policies.Caching;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Core.Tests.Policies.Caching;

public class CacheKeyTests
{
    private static DefaultHttpContext Request(string url, params (string Name, string Value)[] headers)
    {
        var uri = new Uri(url);
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = uri.Scheme;
        context.Request.Host = new HostString(uri.Authority);
        context.Request.Path = uri.AbsolutePath;
        context.Request.QueryString = new QueryString(uri.Query);
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        return context;
    }

    private static CachePolicy Policy(string[]? query = null, string[]? headers = null, bool byConsumer = false) =>
        CachePolicy.For(new RouteCacheOptions { VaryByQuery = query, VaryByHeaders = headers ?? [], KeyByConsumer = byConsumer });

    [Fact]
    public void Key_HasMethodSchemeHostPathAndSortedQuery()
    {
        var key = CacheKey.Build(Request("https://API.example/a/B?z=1&a=2"), Policy());

        Assert.Equal("test\nGET\nhttps\napi.example\n/a/B\n&a=2&z=1", key);
    }

    [Theory]
    [InlineData("http://h/p?page=1&sort=x", "http://h/p?sort=x&page=1", true)]
    [InlineData("http://h/p?page=1", "http://h/p?page=2", false)]
    [InlineData("http://h/p?page=1", "http://h/p?page=1&sort=", false)]
    [InlineData("http://h/p", "http://h/P", false)]
    [InlineData("http://h/p", "https://h/p", false)]
    [InlineData("http://h/p", "http://h:8080/p", false)]
    [InlineData("http://h/p", "http://H/p", true)]
    public void Key_SameOnlyWhenKeyedPartsAreEqual(string a, string b, bool same)
    {
        var policy = Policy(query: ["page", "sort"]);

        Assert.Equal(same, CacheKey.Build(Request(a), policy) == CacheKey.Build(Request(b), policy));
    }

    [Theory]
    [InlineData("X-Forwarded-Host", "evil")]
    [InlineData("X-Forwarded-For", "1.2.3.4")]
    [InlineData("Cookie", "a=b")]
    [InlineData("User-Agent", "attacker")]
    public void Key_UnkeyedHeaders_DoNotChangeIt(string name, string value)
    {
        var policy = Policy(headers: ["Accept-Language"]);

        Assert.Equal(CacheKey.Build(Request("http://h/p"), policy), CacheKey.Build(Request("http://h/p", (name, value)), policy));
    }

    [Fact]
    public void Key_KeyedHeaders_ChangeIt()
    {
        var policy = Policy(headers: ["Accept-Language"]);

        Assert.NotEqual(CacheKey.Build(Request("http://h/p", ("Accept-Language", "en")), policy), CacheKey.Build(Request("http://h/p", ("Accept-Language", "fr")), policy));
    }

    [Theory]
    [InlineData("http://h/p?page=1&callback=x")]
    [InlineData("http://h/p?utm_source=x")]
    public void UnkeyedQueryParameter_Bypasses(string url) =>
        Assert.Null(CacheKey.Build(Request(url), Policy(query: ["page"])));

    [Theory]
    [InlineData("X-Original-URL")]
    [InlineData("X-Rewrite-URL")]
    [InlineData("X-HTTP-Method-Override")]
    public void UrlOverrideHeader_Bypasses(string header) =>
        Assert.Null(CacheKey.Build(Request("http://h/p", (header, "/admin")), Policy()));

    [Fact]
    public void TooManyQueryParameters_Bypass() =>
        Assert.Null(CacheKey.Build(Request("http://h/p?" + string.Join("&", Enumerable.Range(0, 65).Select(i => $"p{i}=1"))), Policy()));

    [Fact]
    public void KeyByConsumer_ConsumersAndAnonymousNeverShareAKey()
    {
        var policy = Policy(byConsumer: true);
        DefaultHttpContext As(string consumer)
        {
            var context = Request("http://h/p");
            context.User = new Caller(new ClaimsIdentity([new Claim("consumer", consumer)], "ApiKey"), "apiKey").Principal;
            return context;
        }

        var alice = CacheKey.Build(As("alice"), policy);
        var bob = CacheKey.Build(As("bob"), policy);
        var anonymous = CacheKey.Build(Request("http://h/p"), policy);
        var dash = CacheKey.Build(As("-"), policy);

        Assert.Equal(4, new[] { alice, bob, anonymous, dash }.Distinct().Count());
    }

    [Fact]
    public void KeyByConsumer_NoGatewayConsumer_Bypasses()
    {
        var policy = Policy(byConsumer: true);
        var anonymous = Request("http://h/p", ("Authorization", "Bearer victim-token"));
        var withoutSubject = Request("http://h/p");
        withoutSubject.User = new Caller(new ClaimsIdentity([new Claim("client_id", "svc-a")], "jwt"), "corp").Principal;

        Assert.Null(CacheKey.Build(anonymous, policy));
        Assert.Null(CacheKey.Build(withoutSubject, policy));
    }

    [Fact]
    public void KeyByConsumer_SameSubjectFromAnotherProvider_AnotherKey()
    {
        var policy = Policy(byConsumer: true);
        DefaultHttpContext As(string source, params Claim[] claims)
        {
            var context = Request("http://h/p");
            context.User = new Caller(new ClaimsIdentity(claims, "test"), source).Principal;
            return context;
        }

        var apiKey = CacheKey.Build(As("apiKey", new Claim("consumer", "x"), new Claim("sub", "x")), policy);
        var corp = CacheKey.Build(As("corp", new Claim("sub", "x")), policy);
        var partner = CacheKey.Build(As("partner", new Claim("sub", "x")), policy);
        var corpAgain = CacheKey.Build(As("corp", new Claim("sub", "x")), policy);

        Assert.Equal(3, new[] { apiKey, corp, partner }.Distinct().Count());
        Assert.Equal(corp, corpAgain);
    }

    [Fact]
    public void LongKey_GrowsItsBuffer()
    {
        var longValue = new string('x', 5000);
        var policy = Policy(headers: ["X-A"]);

        var key = CacheKey.Build(Request("http://h/p", ("X-A", longValue)), policy);

        Assert.EndsWith(longValue, key, StringComparison.Ordinal);
    }
}
