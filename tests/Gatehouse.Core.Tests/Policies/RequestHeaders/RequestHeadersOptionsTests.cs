using Gatehouse.Configuration;
using Gatehouse.Policies.RequestHeaders;

namespace Gatehouse.Core.Tests.Policies.RequestHeaders;

public class RequestHeadersOptionsTests
{
    private const string Routes = """
        services: { s: { targets: ["http://127.0.0.1:1"] } }
        routes: [ { name: r, match: { path: "/{**rest}" }, service: s } ]
        """;

    private static GatewayOptions Load(string section) => ConfigLoader.Load(section + "\n" + Routes, "test.yaml", _ => null);

    private static string Refusal(string section) =>
        string.Join("\n", Assert.Throws<ConfigException>(() => Load(section)).Errors.Select(e => e.ToString()));

    [Fact]
    public void Defaults_DropUnderscoresAndKeepNothing()
    {
        var options = Load("");

        Assert.Equal(UnderscoreHeaders.Drop, options.RequestHeaders.Underscores);
        Assert.Empty(options.RequestHeaders.Keep);
    }

    [Fact]
    public void Read_BindsBothKeys()
    {
        var options = Load("requestHeaders: { underscores: reject, keep: [X-HTTP-Method-Override] }");

        Assert.Equal(UnderscoreHeaders.Reject, options.RequestHeaders.Underscores);
        Assert.Equal(["X-HTTP-Method-Override"], options.RequestHeaders.Keep);
    }

    [Theory]
    [InlineData("requestHeaders: { underscores: sometimes }", "test.yaml:1:")]
    [InlineData("requestHeaders: { keep: [\"Bad Name\"] }", "'Bad Name' is not a header name")]
    [InlineData("requestHeaders: { keep: [X-Custom] }", "'X-Custom' is not removed in the first place")]
    [InlineData("requestHeaders: { drop: [X-Custom] }", "drop")]
    public void Load_BadSection_RefusedWithPosition(string section, string expected)
    {
        var errors = Refusal(section);

        Assert.Contains(expected, errors);
        Assert.Contains("test.yaml:1:", errors);
    }

    [Theory]
    [InlineData("X-Original-URL", false, true)]
    [InlineData("x-http-method-override", true, true)]   // overrides go even from a trusted proxy
    [InlineData("X-Real-IP", false, true)]
    [InlineData("True-Client-IP", true, false)]         // a trusted proxy may say who the client is
    [InlineData("X-Forwarded-Port", false, true)]
    [InlineData("X_Consumer", true, true)]              // '_' names go by default, whoever sent them
    [InlineData("X-Custom", false, false)]
    [InlineData("X-Forwarded-For", false, false)]       // replaced by the forwarder, not removed here
    public void Filter_Defaults(string name, bool trustedPeer, bool removed) =>
        Assert.Equal(removed, new RequestHeadersOptions().Filter.Removes(name, trustedPeer));

    [Fact]
    public void Filter_KeepAndAllow_LetThemPass()
    {
        var filter = new RequestHeadersOptions { Underscores = UnderscoreHeaders.Allow, Keep = ["X-HTTP-Method-Override"] }.Filter;

        Assert.False(filter.Removes("X-HTTP-Method-Override", trustedPeer: false));
        Assert.False(filter.Removes("X_Consumer", trustedPeer: false));
        Assert.True(filter.Removes("X-Original-URL", trustedPeer: false));
        Assert.False(filter.Refuses("X_Consumer"));
    }

    [Fact]
    public void Filter_Reject_RefusesUnderscoreNamesOnly()
    {
        var filter = new RequestHeadersOptions { Underscores = UnderscoreHeaders.Reject }.Filter;

        Assert.True(filter.Refuses("Transfer_Encoding"));
        Assert.False(filter.Refuses("X-Custom"));
        Assert.False(filter.Removes("Transfer_Encoding", trustedPeer: false));
    }
}
