using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Admin;

/// <summary>
/// The dashboard end to end in Debian's headless Chromium, driven by tests/dashboard/dashboard-check.mjs
/// (playwright-core; test.sh installs both): the page loads, its live figures change once this test sends traffic
/// (req/s, 5xx share, p99, rate-limit rejections), target health and breaker show, and the explain form names the route.
/// The gateway is the real <c>gatehouse run</c> in its own process: its /metrics then holds its own requests only,
/// whatever other tests run in this process at the same time.
/// </summary>
public sealed partial class DashboardTests
{
    private const string Token = "dashboard-test-token-0123456789";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dashboard_InChromium_ShowsLiveTrafficAndExplains(bool withToken)
    {
        await using var backend = await TestBackend.StartAsync(app =>
        {
            app.MapGet("/healthz", () => "ok");
            app.Map("/{**path}", (HttpContext context) =>
            {
                context.Response.StatusCode = context.Request.Path.Value!.Contains("fail", StringComparison.Ordinal) ? 500 : 200;
                return context.Response.WriteAsync("backend");
            });
        });
        var directory = Directory.CreateTempSubdirectory("gatehouse-dashboard-").FullName;
        var config = Path.Combine(directory, "gatehouse.yaml");
        await File.WriteAllTextAsync(config, $$"""
            listen: ["http://127.0.0.1:0"]
            admin: { listen: "http://127.0.0.1:0"{{(withToken ? $", token: \"{Token}\"" : "")}} }
            observability: { accessLog: { enabled: false } }
            rateLimits:
              tight: { limit: 1, window: 1m }
            services:
              users:
                targets: ["{{backend.Url}}"]
                healthCheck: { path: /healthz, interval: 1s, timeout: 1s }
                circuitBreaker: { failureRatio: 0.9, minimumRequests: 100000 }
            routes:
              - name: users
                match: { path: "/api/users/{**rest}" }
                service: users
              - name: limited
                match: { path: "/api/limited/{**rest}" }
                service: users
                rateLimit: [tight]
            """);
        await using var gateway = GatehouseProcess.Start("run", "--config", config, "--no-watch");
        var proxy = await gateway.WaitForListeningAsync();
        var admin = AdminUrl().Match(gateway.Output).Groups["url"].Value;
        var screenshot = Path.Combine(directory, "dashboard.png");
        string[] extra = withToken ? ["--token", Token] : [];

        try
        {
            var (exitCode, output) = await RunCheckAsync(proxy,
            [
                "--url", admin + "/", "--route", "users", "--policy", "tight", "--service", "users",
                "--explain-url", "http://api.example.com/api/users/42", "--screenshot", screenshot, .. extra,
            ]);

            Assert.True(exitCode == 0, "dashboard-check failed:\n" + output + "\ngatehouse:\n" + gateway.Output);
            Assert.Contains("\nok ", "\n" + output, StringComparison.Ordinal);
            Assert.Contains("\"explained\":\"users\"", output, StringComparison.Ordinal);
            Assert.Contains("\"breaker\":\"closed\"", output, StringComparison.Ordinal);
            Assert.Equal(withToken, output.Contains("progress login form shown", StringComparison.Ordinal));
            Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is missing or empty");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Starts the script; once it says the page is live, sends traffic until it exits. Returns its exit code and output.</summary>
    private static async Task<(int ExitCode, string Output)> RunCheckAsync(Uri proxy, string[] arguments)
    {
        var script = Script;
        var info = new ProcessStartInfo("node", [script, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(script)!,
        };
        using var process = Process.Start(info)!;
        var output = new StringBuilder();
        var pageLive = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data == "waiting-for-traffic")
            {
                pageLive.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            if (await Task.WhenAny(pageLive.Task, exited).WaitAsync(stop.Token) == pageLive.Task)
            {
                await SendTrafficUntilAsync(proxy, exited, stop.Token);
            }

            await exited.WaitAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            lock (output)
            {
                output.AppendLine("(timed out: the script was stopped)");
            }
        }

        await process.WaitForExitAsync();
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    /// <summary>Successes and 500s on the watched route, and requests beyond the tight rate limit, until the script is done.</summary>
    private static async Task SendTrafficUntilAsync(Uri proxy, Task done, CancellationToken cancellationToken)
    {
        using var client = TestGateway.NewClient(proxy);
        var i = 0;
        while (!done.IsCompleted && !cancellationToken.IsCancellationRequested)
        {
            var path = (i++ % 4) switch
            {
                0 => "/api/users/fail",
                3 => "/api/limited/x",
                _ => "/api/users/" + i,
            };
            using var response = await client.GetAsync(path, cancellationToken);
            await Task.Delay(10, cancellationToken);
        }
    }

    private static string Script
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "dashboard", "dashboard-check.mjs");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new FileNotFoundException("tests/dashboard/dashboard-check.mjs not found above the test output directory");
        }
    }

    [GeneratedRegex(@"admin on (?<url>http://[^;,\s]+)")]
    private static partial Regex AdminUrl();
}
