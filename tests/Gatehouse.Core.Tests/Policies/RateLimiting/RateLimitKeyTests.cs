using System.Net;
using System.Security.Claims;
using Gatehouse.Policies.Authentication;
using Gatehouse.Policies.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Core.Tests.Policies.RateLimiting;

public class RateLimitKeyTests
{
    private static DefaultHttpContext Request(string ip = "203.0.113.7", Caller? caller = null, string? tenant = null)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(ip);
        if (caller is not null)
        {
            context.User = caller.Principal;
        }

        if (tenant is not null)
        {
            context.Request.Headers["X-Tenant"] = tenant;
        }

        return context;
    }

    private static Caller Jwt(params Claim[] claims) => new(new ClaimsIdentity(claims, "jwt", "sub", "roles"), "corp");

    [Fact]
    public void Consumer_IsTheApiKeyConsumer_ElseTheTokenSubject()
    {
        var key = RateLimitKey.Compile(["consumer"]);

        Assert.Equal("alice", key.Resolve(Request(caller: Jwt(new Claim("consumer", "alice"), new Claim("sub", "alice"))), "r"));
        Assert.Equal("user-1", key.Resolve(Request(caller: Jwt(new Claim("sub", "user-1"))), "r"));
    }

    [Fact]
    public void MissingConsumerHeaderOrClaim_FallsBackToTheClientAddress()
    {
        Assert.Equal(IPAddress.Parse("203.0.113.7"), RateLimitKey.Compile(["consumer"]).Resolve(Request(), "r"));
        Assert.Equal(IPAddress.Parse("203.0.113.7"), RateLimitKey.Compile(["header:X-Tenant"]).Resolve(Request(tenant: ""), "r"));
        Assert.Equal(IPAddress.Parse("203.0.113.7"), RateLimitKey.Compile(["claim:tenant"]).Resolve(Request(caller: Jwt(new Claim("sub", "u"))), "r"));
        Assert.Equal(IPAddress.Parse("203.0.113.7"), RateLimitKey.Compile(["ip"]).Resolve(Request("::ffff:203.0.113.7"), "r"));
    }

    [Fact]
    public void NestedClaim_AndCompositeKeys_KeepKindsApart()
    {
        var caller = Jwt(new Claim("sub", "u"), new Claim("org", """{"id":"acme"}""", "JSON"));
        Assert.Equal("acme", RateLimitKey.Compile(["claim:org.id"]).Resolve(Request(caller: caller), "r"));

        var composite = RateLimitKey.Compile(["consumer", "route"]);
        var withConsumer = composite.Resolve(Request(caller: caller), "orders");
        var anonymous = composite.Resolve(Request(), "orders");

        Assert.Equal("v=u\u001fv=orders", withConsumer);
        Assert.Equal("ip=203.0.113.7\u001fv=orders", anonymous);
        Assert.Equal("v=acme", RateLimitKey.ToText("acme"));
        Assert.Equal("ip=203.0.113.7", RateLimitKey.ToText(IPAddress.Parse("203.0.113.7")));
    }

    [Fact]
    public void AHeaderValueThatLooksLikeAnAddress_NeverSharesTheAddressCounter()
    {
        var key = RateLimitKey.Compile(["header:X-Tenant"]);

        var fromHeader = key.Resolve(Request(tenant: "203.0.113.7"), "r");
        var fromAddress = key.Resolve(Request(), "r");

        Assert.NotEqual(fromHeader, fromAddress);
        Assert.NotEqual(RateLimitKey.ToText(fromHeader), RateLimitKey.ToText(fromAddress));
    }
}
