using Gatehouse.Configuration;
using Gatehouse.Routing;

namespace Gatehouse.Core.Tests.Routing;

public class RouteMatcherTests
{
    private static RouteMatcher Matcher(string path, string[]? methods = null, string[]? hosts = null, ValueMatchOptions[]? headers = null) =>
        new(new RouteOptions
        {
            Name = path,
            Service = "s",
            Match = new MatchOptions { Path = path, Methods = methods ?? [], Hosts = hosts ?? [], Headers = headers ?? [] },
        });

    [Theory]
    [InlineData("api.example.com", "api.example.com", 80, true)]
    [InlineData("API.example.com", "api.EXAMPLE.com", 80, true)]
    [InlineData("*.example.com", "a.example.com", 80, true)]
    [InlineData("*.example.com", "example.com", 80, false)]
    [InlineData("example.com:8080", "example.com", 8080, true)]
    [InlineData("example.com:8080", "example.com", 80, false)]
    [InlineData("example.com", "other.com", 80, false)]
    public void HostMatches_FollowsYarpHostRules(string pattern, string host, int port, bool expected) =>
        Assert.Equal(expected, RouteMatcher.HostMatches(pattern, host, port));

    [Theory]
    [InlineData("/{**rest}", "/users/{id}", true)]
    [InlineData("/api/{**rest}", "/api", true)]
    [InlineData("/api/{**rest}", "/apix/{id}", false)]
    [InlineData("/users/{id}", "/users/{name}", true)]
    [InlineData("/users/{id}", "/users/me", true)]
    [InlineData("/users/me", "/users/{id}", false)]
    [InlineData("/users/{id:int}", "/users/{x}", false)]
    [InlineData("/users/{id}", "/users/{id}/orders", false)]
    [InlineData("/a/{**rest}", "/a/{**more}", true)]
    public void Covers_PathOnly_IsConservative(string earlier, string later, bool expected) =>
        Assert.Equal(expected, RouteMatcher.Covers(Matcher(earlier), Matcher(later)));

    [Fact]
    public void Covers_EarlierRestrictsMethods_DoesNotCoverAnyMethodRoute()
    {
        Assert.False(RouteMatcher.Covers(Matcher("/{**rest}", methods: ["GET"]), Matcher("/x")));
        Assert.True(RouteMatcher.Covers(Matcher("/{**rest}", methods: ["GET", "POST"]), Matcher("/x", methods: ["GET"])));
    }

    [Fact]
    public void Covers_EarlierHasHeaderCondition_DoesNotCoverUnconditionedRoute() =>
        Assert.False(RouteMatcher.Covers(
            Matcher("/{**rest}", headers: [new ValueMatchOptions { Name = "X-Beta", Values = ["1"] }]),
            Matcher("/x")));

    [Fact]
    public void Mismatch_ReportsFirstFailingCondition()
    {
        var matcher = Matcher("/users/{id:int}", methods: ["GET"], hosts: ["api.example.com"],
            headers: [new ValueMatchOptions { Name = "X-Tenant", Values = ["acme"] }]);
        var url = new Uri("http://api.example.com/users/42");

        Assert.Null(matcher.Mismatch(new ExplainRequest("GET", url, [new("X-Tenant", "ACME")])));
        Assert.Contains("path", matcher.Mismatch(new ExplainRequest("GET", new Uri("http://api.example.com/orders/1"), [])));
        Assert.Contains("constraint", matcher.Mismatch(new ExplainRequest("GET", new Uri("http://api.example.com/users/abc"), [])));
        Assert.Contains("host", matcher.Mismatch(new ExplainRequest("GET", new Uri("http://other.example.com/users/42"), [])));
        Assert.Contains("method POST", matcher.Mismatch(new ExplainRequest("POST", url, [])));
        Assert.Contains("header X-Tenant", matcher.Mismatch(new ExplainRequest("GET", url, [new("X-Tenant", "other")])));
    }
}
