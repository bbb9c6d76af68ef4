using System.Diagnostics;
using System.Text;
using StackExchange.Redis;

namespace Gatehouse.FunctionalTests.Common;

/// <summary>
/// A real Debian <c>redis-server</c> on 127.0.0.1 (test.sh installs it), without persistence. Redis cannot listen on
/// port 0, so a random high port is tried and another one if the server reports it taken; the same port is reused on
/// restart so that gateways reconnect to it.
/// </summary>
public sealed class TestRedis : IAsyncDisposable
{
    private Process _process;

    private TestRedis(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Connection => $"127.0.0.1:{Port}";

    /// <summary>For the tests' own INFO and DEBUG commands.</summary>
    public string AdminConnection => Connection + ",allowAdmin=true";

    public static async Task<TestRedis> StartAsync()
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var port = Random.Shared.Next(20_000, 60_000);
            if (await TryStartAsync(port) is { } process)
            {
                return new TestRedis(process, port);
            }
        }

        throw new InvalidOperationException("redis-server did not start on any of 20 ports");
    }

    private static async Task<Process?> TryStartAsync(int port)
    {
        var info = new ProcessStartInfo("redis-server", ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no", "--enable-debug-command", "yes"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start redis-server");
        var ready = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
            {
                ready.TrySetResult(false);
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }

            if (line.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult(true);
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => ready.TrySetResult(false);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var started = await ready.Task.WaitAsync(TimeSpan.FromSeconds(20));
        if (started)
        {
            return process;
        }

        if (!process.HasExited)
        {
            process.Kill();
        }

        process.Dispose();
        lock (output)
        {
            return output.ToString().Contains("Address already in use", StringComparison.Ordinal)
                ? null
                : throw new InvalidOperationException($"redis-server failed:\n{output}");
        }
    }

    /// <summary>Kills the server at once (SIGKILL), as a crash would.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>Starts a fresh (empty) server on the same port.</summary>
    public async Task RestartAsync()
    {
        var process = await TryStartAsync(Port) ?? throw new InvalidOperationException($"port {Port} was taken while Redis was down");
        _process.Dispose();
        _process = process;
    }

    /// <summary>How many times each command ran, from INFO commandstats (e.g. evalsha, eval).</summary>
    public async Task<IReadOnlyDictionary<string, long>> CommandCallsAsync()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(AdminConnection);
        var info = await connection.GetServer(Connection).InfoAsync("commandstats");
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, value) in info.SelectMany(g => g))
        {
            // cmdstat_evalsha: calls=123,usec=...
            var calls = value.Split(',')[0];
            result[key.Replace("cmdstat_", "", StringComparison.Ordinal)] = long.Parse(calls["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        }

        return result;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
