using System.Net;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Configuration;

public class HotReloadTests
{
    private static string Config(TestBackend backend, string env, string extraRoute = "") => $$"""
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          {{extraRoute}}
          - name: all
            match: { path: "/{**rest}" }
            service: s
            headers: { set: { X-Env: {{env}} } }
        """;

    [Fact]
    public async Task Reload_TwentyRewritesUnderLoad_ZeroFailedRequests()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, "v0"));
        using var stop = new CancellationTokenSource();
        var failures = 0;
        var successes = 0;
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, byte>();
        var load = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            using var client = TestGateway.NewClient(gateway.Url);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await client.GetAsync("/work");
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref successes);
                        seen.TryAdd(response.Headers.GetValues("X-Echo-X-Env").Single(), 0);
                    }
                    else
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToArray();

        for (var i = 1; i <= 20; i++)
        {
            // Every other rewrite also adds a route, so the route table itself changes under load.
            var extra = i % 2 == 0 ? $"- {{ name: extra{i}, match: {{ path: \"/extra{i}\" }}, service: s }}" : "";
            await gateway.RewriteConfigAsync(Config(backend, $"v{i}", extra));
        }

        await Wait.UntilAsync(() => seen.ContainsKey("v20"), "the last edit to take effect");
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.Equal(0, failures);
        Assert.True(successes > 100, $"only {successes} requests ran during the reloads");
        Assert.True(gateway.Host.Status.Generation >= 21, $"generation {gateway.Host.Status.Generation}");
    }

    [Fact]
    public async Task Reload_HeaderOnlyEdit_TakesEffect()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, "before"));

        using var before = await gateway.Client.GetAsync("/x");
        await gateway.RewriteConfigAsync(Config(backend, "after"));
        using var after = await gateway.Client.GetAsync("/x");

        Assert.Equal("before", before.Headers.GetValues("X-Echo-X-Env").Single());
        Assert.Equal("after", after.Headers.GetValues("X-Echo-X-Env").Single());
    }

    [Fact]
    public async Task Reload_PolicyOnlyEdit_TakesEffect()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        var config = $$"""
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s, limits: { maxBodyBytes: LIMIT } }
            """;
        await using var gateway = await TestGateway.StartAsync(config.Replace("LIMIT", "1MB", StringComparison.Ordinal));

        using var allowed = await gateway.Client.PostAsync("/x", new ByteArrayContent(new byte[10_000]));
        await gateway.RewriteConfigAsync(config.Replace("LIMIT", "1KB", StringComparison.Ordinal));
        using var refused = await gateway.Client.PostAsync("/x", new ByteArrayContent(new byte[10_000]));

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
    }

    [Fact]
    public async Task Watcher_FilesWrittenBesideTheConfig_NoReload_TheConfigItself_Reloads()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, "good"));
        var folder = Path.GetDirectoryName(gateway.ConfigPath)!;
        var before = gateway.Host.Status.LastAttemptAt;

        // A log, an editor's swap file and a temp file beside the config: none of them is the config.
        for (var i = 0; i < 5; i++)
        {
            await File.AppendAllTextAsync(Path.Combine(folder, "gateway.log"), $"line {i}\n");
            await File.WriteAllTextAsync(Path.Combine(folder, ".gatehouse.yaml.swp"), $"swap {i}");
            await File.WriteAllTextAsync(Path.Combine(folder, $"tmp-{i}"), "x");
            await Task.Delay(50);
        }

        await Task.Delay(600);
        Assert.Equal(before, gateway.Host.Status.LastAttemptAt);

        // The config file itself, rewritten with the same text, is read again (and found unchanged).
        await File.WriteAllTextAsync(gateway.ConfigPath, await File.ReadAllTextAsync(gateway.ConfigPath));
        await Wait.UntilAsync(() => gateway.Host.Status.LastAttemptAt > before, "the rewritten config to be read again");
        Assert.Equal(1, gateway.Host.Status.Generation);
    }

    [Fact]
    public async Task Reload_BadFile_RefusedWithErrors_OldConfigKeepsServing()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, "good"));

        await gateway.RewriteConfigAsync("services:\n  s: { targets: [\"http://127.0.0.1:1\"], timout: 5s }\nroutes: []\n", expectRefusal: true);
        using var response = await gateway.Client.GetAsync("/x");
        using var status = await gateway.Admin!.GetAsync("/config/status");
        var statusJson = await status.Content.ReadAsStringAsync();

        Assert.False(gateway.Host.Status.LastAttemptSucceeded);
        var error = Assert.Single(gateway.Host.Status.Errors);
        Assert.Equal((4, 41), (error.Line, error.Column));
        Assert.Contains("did you mean 'timeout'", error.Message);
        Assert.Equal(1, gateway.Host.Status.Generation);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("good", response.Headers.GetValues("X-Echo-X-Env").Single());
        Assert.Contains("\"lastAttemptSucceeded\": false", statusJson);
        Assert.Contains("did you mean", statusJson);
    }

    [Fact]
    public async Task Reload_RevertAfterRefusedEdit_ReportsSuccessAgain()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        var good = Config(backend, "good");
        await using var gateway = await TestGateway.StartAsync(good);

        await gateway.RewriteConfigAsync("servics: {}\n", expectRefusal: true);
        await File.WriteAllTextAsync(gateway.ConfigPath, TestGateway.WithTestListeners(good));
        await Wait.UntilAsync(() => gateway.Host.Status.LastAttemptSucceeded, "the revert to be accepted");

        Assert.Equal(1, gateway.Host.Status.Generation);
        Assert.Empty(gateway.Host.Status.Errors);
    }

    [Fact]
    public async Task Reload_AdminApi_ReloadsOnRequest()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, "one"), watch: false);
        await File.WriteAllTextAsync(gateway.ConfigPath, TestGateway.WithTestListeners(Config(backend, "two")));

        using var reload = await gateway.Admin!.PostAsync("/reload", null);
        using var response = await gateway.Client.GetAsync("/x");

        Assert.Equal(HttpStatusCode.OK, reload.StatusCode);
        Assert.Equal("two", response.Headers.GetValues("X-Echo-X-Env").Single());
    }

    [Fact]
    public async Task Reload_Sighup_ReloadsRunningProcess()
    {
        await using var backend = await TestBackend.StartEchoAsync();
        var path = Path.Combine(Directory.CreateTempSubdirectory("gatehouse-hup-").FullName, "gatehouse.yaml");
        await File.WriteAllTextAsync(path, TestGateway.WithTestListeners(Config(backend, "first")).Replace("admin: { listen: \"http://127.0.0.1:0\" }", "admin: { listen: \"\" }", StringComparison.Ordinal));
        await using var gateway = GatehouseProcess.Start("run", "--config", path, "--no-watch");
        var url = await gateway.WaitForListeningAsync();
        using var client = TestGateway.NewClient(url);
        using var first = await client.GetAsync("/x");

        // Write through a different inode (rename over) as many deploy tools do, then signal.
        var staged = path + ".new";
        await File.WriteAllTextAsync(staged, TestGateway.WithTestListeners(Config(backend, "second")).Replace("admin: { listen: \"http://127.0.0.1:0\" }", "admin: { listen: \"\" }", StringComparison.Ordinal));
        File.Move(staged, path, overwrite: true);
        gateway.Signal(1); // SIGHUP
        await Wait.UntilAsync(() => gateway.HasLine("Config reloaded (SIGHUP)"), "the SIGHUP reload log line");
        using var second = await client.GetAsync("/x");

        Assert.Equal("first", first.Headers.GetValues("X-Echo-X-Env").Single());
        Assert.Equal("second", second.Headers.GetValues("X-Echo-X-Env").Single());
    }
}
