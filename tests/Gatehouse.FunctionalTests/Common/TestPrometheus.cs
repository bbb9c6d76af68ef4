using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Gatehouse.FunctionalTests.Common;

/// <summary>
/// A real Debian <c>prometheus</c> server (test.sh installs it) on 127.0.0.1 scraping the given target every second,
/// with its storage in a temporary directory. Prometheus cannot listen on port 0, so a random high port is tried
/// and another one if it reports the address taken. Also runs <c>promtool check metrics</c>.
/// </summary>
public sealed class TestPrometheus : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output;

    private TestPrometheus(Process process, string directory, StringBuilder output, int port)
    {
        _process = process;
        _directory = directory;
        _output = output;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public HttpClient Client { get; }

    public static async Task<TestPrometheus> StartAsync(Uri target)
    {
        var directory = Directory.CreateTempSubdirectory("gatehouse-prometheus-").FullName;
        var config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, $$"""
            global: { scrape_interval: 1s, evaluation_interval: 1s }
            scrape_configs:
              - job_name: gatehouse
                metrics_path: /metrics
                static_configs: [{ targets: ["{{target.Authority}}"] }]
            """);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var port = Random.Shared.Next(20_000, 60_000);
            var output = new StringBuilder();
            var info = new ProcessStartInfo("prometheus",
            [
                "--config.file=" + config,
                "--storage.tsdb.path=" + Path.Combine(directory, "data"),
                "--web.listen-address=127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--log.level=warn",
            ])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start prometheus");
            process.OutputDataReceived += (_, e) => Append(output, e.Data);
            process.ErrorDataReceived += (_, e) => Append(output, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var prometheus = new TestPrometheus(process, directory, output, port);
            if (await prometheus.WaitReadyAsync())
            {
                return prometheus;
            }

            var text = prometheus.Output;
            await prometheus.StopProcessAsync();
            if (!text.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"prometheus failed to start:\n{text}");
            }
        }

        throw new InvalidOperationException("prometheus did not start on any of 20 ports");
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    private async Task<bool> WaitReadyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var response = await Client.GetAsync("/-/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50);
        }

        return false;
    }

    /// <summary>The result vector of an instant query through Prometheus' HTTP API.</summary>
    public async Task<JsonElement> QueryAsync(string query)
    {
        using var response = await Client.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(query));
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("success", document.RootElement.GetProperty("status").GetString());
        return document.RootElement.GetProperty("data").GetProperty("result").Clone();
    }

    /// <summary><c>promtool check metrics</c> on the exposition: its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> CheckMetricsAsync(string exposition)
    {
        var info = new ProcessStartInfo("promtool", ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start promtool");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(exposition);
        process.StandardInput.Close();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return (process.ExitCode, await stdout + await stderr);
    }

    private async Task StopProcessAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Client.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopProcessAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
