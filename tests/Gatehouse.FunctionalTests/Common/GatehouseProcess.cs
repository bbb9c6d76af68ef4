using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Gatehouse.FunctionalTests.Common;

/// <summary>The real <c>gatehouse</c> command as a child process (its dll is copied next to the tests by the project reference).</summary>
public sealed partial class GatehouseProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private GatehouseProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public string Output => string.Join('\n', _output);

    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "gatehouse.dll");

    public static GatehouseProcess Start(params string[] args) => Start(args, null, null);

    public static GatehouseProcess Start(string[] args, string? workingDirectory, IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        info.ArgumentList.Add(DllPath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return new GatehouseProcess(Process.Start(info)!);
    }

    /// <summary>Runs a verb to completion: exit code and all output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        await using var process = Start(args);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process._process.WaitForExitAsync(timeout.Token);
        process._process.WaitForExit(); // flushes the asynchronous output readers
        return (process._process.ExitCode, process.Output);
    }

    /// <summary>Waits for the "listening on" log line and returns the first proxy address.</summary>
    public async Task<Uri> WaitForListeningAsync()
    {
        Uri? url = null;
        await Wait.UntilAsync(() =>
        {
            foreach (var line in _output)
            {
                var match = Listening().Match(line);
                if (match.Success)
                {
                    url = new Uri(match.Groups["url"].Value);
                    return true;
                }
            }

            return _process.HasExited ? throw new InvalidOperationException("gatehouse exited: " + Output) : false;
        }, "gatehouse to start listening", TimeSpan.FromSeconds(30));
        return url!;
    }

    public bool HasLine(string fragment) => _output.Any(l => l.Contains(fragment, StringComparison.Ordinal));

    /// <summary>Peak resident memory (VmHWM) in bytes, from /proc.</summary>
    public long PeakRssBytes() => ReadStatus("VmHWM");

    public long RssBytes() => ReadStatus("VmRSS");

    private long ReadStatus(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"{field} not found");
    }

    public void Signal(int signal) => _ = Kill(_process.Id, signal);

    private void Collect(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"listening on (?<url>http://[^;,\s]+)")]
    private static partial Regex Listening();
}
