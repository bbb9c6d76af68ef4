using Gatehouse.Policies.Authentication;

namespace Gatehouse.Core.Tests.Policies.Authentication;

public class IdentityHeadersMiddlewareTests
{
    [Theory]
    [InlineData("?api_key=k", "")]
    [InlineData("?API_KEY=k", "")]
    [InlineData("?a=1&api_key=k", "?a=1")]
    [InlineData("?api_key=k&a=1", "?a=1")]
    [InlineData("?a=1&Api_Key=k&b=2", "?a=1&b=2")]
    [InlineData("?a=1&api%5Fkey=k&b=2", "?a=1&b=2")]
    [InlineData("?a=1&API%5fKEY=k", "?a=1")]
    [InlineData("?api_key&a=1", "?a=1")]
    [InlineData("?api_key=1&API_KEY=2&a=%2B&c+d=x&e", "?a=%2B&c+d=x&e")]
    public void WithoutParameter_RemovesEverySpelling_KeepsTheRestAsSent(string query, string expected) =>
        Assert.Equal(expected, IdentityHeadersMiddleware.WithoutParameter(query, "api_key"));

    [Theory]
    [InlineData("?a=1&b=2")]
    [InlineData("?a=%2B&c+d=x&e")]
    [InlineData("?api_keys=1&my_api_key=2&x=api_key")]
    public void WithoutParameter_NothingToRemove_SameInstance(string query) =>
        Assert.Same(query, IdentityHeadersMiddleware.WithoutParameter(query, "api_key"));
}
