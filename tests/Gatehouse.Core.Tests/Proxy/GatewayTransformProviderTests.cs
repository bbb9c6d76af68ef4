using Gatehouse.Proxy;

namespace Gatehouse.Core.Tests.Proxy;

public class GatewayTransformProviderTests
{
    [Theory]
    [InlineData("close", new string[0])]
    [InlineData("keep-alive, X-Secret", new[] { "X-Secret" })]
    [InlineData("Upgrade, X-A ,X-B", new[] { "X-A", "X-B" })]
    [InlineData(" , ", new string[0])]
    public void RemoveNominated_ListsHeaderTokensOnly(string connection, string[] expected)
    {
        var removed = new List<string>();
        GatewayTransformProvider.RemoveNominated(connection, removed, static (list, name) => list.Add(name));
        Assert.Equal(expected, removed);
    }
}
