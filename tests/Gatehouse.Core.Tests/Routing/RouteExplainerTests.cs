using Gatehouse.Configuration;
using Gatehouse.Routing;

namespace Gatehouse.Core.Tests.Routing;

public class RouteExplainerTests
{
    private static readonly GatewayOptions Options = ConfigLoader.Load("""
        services:
          a: { targets: ["http://127.0.0.1:1"] }
        routes:
          - { name: read-users, match: { path: "/users/{id}", methods: [GET] }, service: a }
          - { name: write-users, match: { path: "/users/{id}", methods: [PUT, DELETE] }, service: a }
          - { name: beta, match: { path: "/beta/{**rest}", headers: { X-Beta: "1" } }, service: a }
        """, "t.yaml", _ => null);

    [Fact]
    public void Explain_Match_NamesRouteAndWhyOthersDidNot()
    {
        var result = RouteExplainer.Explain(Options, new ExplainRequest("PUT", new Uri("http://h/users/1"), []));

        Assert.Equal("write-users", result.MatchedRoute);
        Assert.Contains(result.NotMatched, n => n.Route == "read-users" && n.Reason.Contains("method PUT"));
        Assert.Contains(result.NotMatched, n => n.Route == "beta" && n.Reason.StartsWith("path"));
    }

    [Fact]
    public void Explain_PathMatchesButNoMethod_Is405WithAllow()
    {
        var result = RouteExplainer.Explain(Options, new ExplainRequest("POST", new Uri("http://h/users/1"), []));

        Assert.Null(result.MatchedRoute);
        Assert.Equal(405, result.Status);
        Assert.Equal(["DELETE", "GET", "PUT"], result.Allow);
    }

    [Fact]
    public void Explain_HeaderMissing_Is404WithReason()
    {
        var result = RouteExplainer.Explain(Options, new ExplainRequest("GET", new Uri("http://h/beta/x"), []));

        Assert.Equal(404, result.Status);
        Assert.Contains(result.NotMatched, n => n.Route == "beta" && n.Reason.Contains("header X-Beta"));
        Assert.Contains("404", result.ToString());
    }
}
