using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Pipeline;

/// <summary>
/// The route feature gives every stage after routing the route and the snapshot of one generation. Before it, a
/// request routed to an endpoint YARP had not rebuilt yet could pair the new snapshot's defaults with the old route's
/// settings: 2 of 4,800 anonymous requests reached a backend whose route required authentication.
/// </summary>
public class RouteFeatureReloadTests
{
    private static string Hash(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    // A: the route relies on the top-level default auth. B: no default, the route requires the key itself. Both refuse
    // an anonymous caller; only a mix of A's route with B's snapshot (or the reverse defaults) would let one through.
    private static string Config(TestBackend backend, bool routeOwnsAuth, int generation) => $$"""
        consumers:
          app: { apiKeys: ["{{Hash("key-app")}}"] }
        {{(routeOwnsAuth ? "" : "auth: { providers: [apiKey] }")}}
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          - name: secure
            match: { path: "/secure/{**rest}" }
            service: s
            headers: { set: { X-Generation: "{{generation}}" } }
            {{(routeOwnsAuth ? "auth: { providers: [apiKey] }" : "")}}
        """;

    [Fact]
    public async Task Reload_SwappingWhereAuthIsDefined_UnderLoad_NoAnonymousRequestReachesTheBackend()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, routeOwnsAuth: false, 0), watch: false);
        using var stop = new CancellationTokenSource();
        var refused = 0;
        var other = 0;
        var load = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            using var client = TestGateway.NewClient(gateway.Url);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await client.GetAsync("/secure/x");
                    Interlocked.Increment(ref response.StatusCode == HttpStatusCode.Unauthorized ? ref refused : ref other);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref other);
                }
            }
        })).ToArray();

        const int Reloads = 60;
        for (var i = 1; i <= Reloads; i++)
        {
            await File.WriteAllTextAsync(gateway.ConfigPath, TestGateway.WithTestListeners(Config(backend, routeOwnsAuth: i % 2 == 1, i)));
            var status = await gateway.Host.ReloadAsync("test").WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(status.LastAttemptSucceeded, string.Join("; ", status.Errors));

            // Let requests meet each new config while YARP rebuilds its endpoints.
            await Task.Delay(20);
        }

        await stop.CancelAsync();
        await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Reloads + 1, gateway.Host.Status.Generation);
        Assert.True(refused > 1000, $"only {refused} requests were made under reload");
        Assert.Equal(0, other);
        Assert.Equal(0, backend.Requests);
    }
}
