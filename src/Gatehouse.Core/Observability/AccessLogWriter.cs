using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Observability;

/// <summary>
/// The access log's writer. A finished request's line is formatted at once, on the request's own thread while its
/// data is still in the CPU cache (into that thread's scratch buffer, no lock held), then copied under a short lock
/// into the one shared buffer, in completion order; one background task swaps the filled buffer out every ~20 ms and
/// writes it in large batches. A request never waits for the disk or the terminal: when <c>queueSize</c> lines are
/// already waiting, the line is dropped and the caller counts it (<c>gatehouse.access_log.dropped</c>).
/// Hand-written rather than a <see cref="System.Threading.Channels.Channel"/> of request objects (the first version):
/// formatting 20 ms later on the writer found every request's data gone cold, and the channel took a lock per line
/// on both sides; measured in bench/observability.sh.
/// </summary>
internal sealed partial class AccessLogWriter : IAsyncDisposable
{
    // stdout is usually a pipe shared with the console logger: a write of at most PIPE_BUF (4096 on Linux) bytes is
    // atomic, so whole lines never interleave with a log message.
    private const int PipeAtomicBytes = 4096;

    // Lines appear within about this delay; under load, one write per delay rather than one wake-up per request.
    private static readonly TimeSpan BatchDelay = TimeSpan.FromMilliseconds(20);

    private readonly AccessLogOptions _options;
    private readonly IReadOnlyList<string> _redacted;
    private readonly Func<Stream>? _openOutput;
    private readonly ILogger? _logger;
    private readonly GatewayMetrics? _metrics;
    private readonly ThreadLocal<Scratch> _scratch;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    // Under _gate: the lines waiting for the writer, and how many.
    private ArrayBufferWriter<byte> _waiting = new(64 * 1024);
    private int _waitingCount;
    private bool _idle = true;

    private ArrayBufferWriter<byte> _spare = new(64 * 1024);
    private long _lastFailureLog = -1;
    private Stream? _stream;
    private long _fileBytes;
    private WallClock _clock = WallClock.Now();

    /// <param name="openOutput">Tests only: where lines go instead of stdout or the file.</param>
    public AccessLogWriter(AccessLogOptions options, IReadOnlyList<string> redactedQueryParameters, Func<Stream>? openOutput = null, ILogger? logger = null, GatewayMetrics? metrics = null)
    {
        _options = options;
        _redacted = redactedQueryParameters;
        _logger = logger;
        _metrics = metrics;
        _openOutput = openOutput;
        _scratch = new ThreadLocal<Scratch>(() => new Scratch(new AccessLogFormatter(_redacted)));

        // A file that cannot be opened fails the start, not the first request's line.
        _stream = options.IsStdout || openOutput is not null ? null : Open();
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Lines written so far (for tests and the admin API).</summary>
    public long Written { get; private set; }

    /// <summary>
    /// The wall-clock time of a <see cref="Stopwatch"/> timestamp: one clock reading per batch instead of
    /// <see cref="DateTime.UtcNow"/> per request.
    /// </summary>
    public DateTime ToUtc(long timestamp)
    {
        var clock = _clock;
        if (timestamp - clock.Timestamp > Stopwatch.Frequency)
        {
            // Idle for a while: a fresh reading. A benign race: two threads may both take one; either is right.
            _clock = clock = WallClock.Now();
        }

        return clock.Utc.AddTicks((long)((timestamp - clock.Timestamp) * WallClock.TicksPerTimestampTick));
    }

    /// <summary>Formats the request's line and queues it; false (the line is dropped) when <c>queueSize</c> lines are waiting.</summary>
    public bool TryEnqueue(GatewayRequestTelemetry telemetry)
    {
        var scratch = _scratch.Value!;
        var line = scratch.Line;
        line.ResetWrittenCount();
        try
        {
            scratch.Formatter.Write(telemetry, line);
        }
        catch (ArgumentException)
        {
            // A value that is not valid UTF-16 (a lone surrogate): the line is skipped, the writer goes on.
            return true;
        }

        bool wake;
        lock (_gate)
        {
            if (_waitingCount >= _options.QueueSize)
            {
                return false;
            }

            _waiting.Write(line.WrittenSpan);
            _waitingCount++;
            wake = _idle;
            _idle = false;
        }

        if (wake)
        {
            _wake.Release();
        }

        return true;
    }

    private async Task RunAsync()
    {
        var stopping = false;
        while (!stopping)
        {
            // Idle: nothing waiting; the next line (or disposal) wakes the writer.
            await _wake.WaitAsync().ConfigureAwait(false);
            do
            {
                await Task.Delay(BatchDelay, _stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                stopping = _stop.IsCancellationRequested;
            }
            while (await DrainAsync().ConfigureAwait(false));
        }
    }

    /// <summary>Swaps out the waiting lines and writes them; false (and idle) when there were none.</summary>
    private async Task<bool> DrainAsync()
    {
        _clock = WallClock.Now();
        ArrayBufferWriter<byte> lines;
        int count;
        lock (_gate)
        {
            count = _waitingCount;
            if (count == 0)
            {
                _idle = true;
                return false;
            }

            lines = _waiting;
            _waiting = _spare;
            _waitingCount = 0;
        }

        await WriteAsync(lines.WrittenMemory, count).ConfigureAwait(false);
        lines.ResetWrittenCount();
        _spare = lines;
        return true;
    }

    /// <summary>
    /// Writes whole lines: on stdout in pieces of at most PIPE_BUF bytes; to a file, rotating between lines, so that
    /// a line that would take the file past <c>maxFileBytes</c> starts the next file.
    /// </summary>
    private async Task WriteAsync(ReadOnlyMemory<byte> data, int lines)
    {
        try
        {
            while (!data.IsEmpty)
            {
                var room = _options.IsStdout ? PipeAtomicBytes : RotatesBySize ? _options.MaxFileBytes - _fileBytes : int.MaxValue;
                var length = WholeLinesWithin(data.Span, room);
                if (length == 0 && RotatesBySize && _fileBytes > 0)
                {
                    await RotateAsync().ConfigureAwait(false);
                    continue;
                }

                if (length == 0)
                {
                    // One line longer than the room: written alone (a fresh file, or an oversized write to stdout).
                    length = data.Span.IndexOf((byte)'\n') + 1;
                }

                var stream = _stream ??= Open();
                await stream.WriteAsync(data[..length]).ConfigureAwait(false);
                await stream.FlushAsync().ConfigureAwait(false);
                _fileBytes += length;
                data = data[length..];
            }

            Written += lines;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full disk or a closed terminal must not stop the gateway; the next batch tries a fresh stream. The
            // lines not written are counted as dropped, and the failure logged at most once a minute.
            _stream?.Dispose();
            _stream = null;
            var lost = data.Span.Count((byte)'\n');
            Written += lines - lost;
            _metrics?.AccessLogDropped(lost);
            if (_logger is not null && (_lastFailureLog < 0 || Environment.TickCount64 - _lastFailureLog > 60_000))
            {
                _lastFailureLog = Environment.TickCount64;
                LogWriteFailed(_logger, _options.Output, lost, e.Message);
            }
        }
    }

    /// <summary>The length of the longest run of whole lines at the start of <paramref name="data"/> that fits in <paramref name="room"/> bytes.</summary>
    private static int WholeLinesWithin(ReadOnlySpan<byte> data, long room)
    {
        if (data.Length <= room)
        {
            return data.Length;
        }

        return room <= 0 ? 0 : data[..(int)room].LastIndexOf((byte)'\n') + 1;
    }

    private bool RotatesBySize => !_options.IsStdout && _openOutput is null;

    private async Task RotateAsync()
    {
        if (_stream is not null)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }

        _stream = null;
        Rotate();
        _stream = Open();
    }

    private Stream Open()
    {
        if (_openOutput is not null)
        {
            return _openOutput();
        }

        if (_options.IsStdout)
        {
            return Console.OpenStandardOutput();
        }

        var stream = new FileStream(_options.Output, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        _fileBytes = stream.Length;
        return stream;
    }

    /// <summary>access.log → access.log.1 → access.log.2 ...; the oldest beyond <c>maxFiles</c> is deleted.</summary>
    private void Rotate()
    {
        var path = _options.Output;
        if (_options.MaxFiles == 0)
        {
            File.Delete(path);
            return;
        }

        File.Delete($"{path}.{_options.MaxFiles}");
        for (var i = _options.MaxFiles - 1; i >= 1; i--)
        {
            if (File.Exists($"{path}.{i}"))
            {
                File.Move($"{path}.{i}", $"{path}.{i + 1}");
            }
        }

        File.Move(path, $"{path}.1");
    }

    [LoggerMessage(EventId = LogEvents.AccessLogWriteFailed, Level = LogLevel.Warning, Message = "Access log output {Output} failed; {Lines} lines dropped (counted in gatehouse_access_log_dropped_total): {Error}")]
    private static partial void LogWriteFailed(ILogger logger, string output, int lines, string error);

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _wake.Release();
        await _loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_stream is not null)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }

        _scratch.Dispose();
    }

    /// <summary>A thread's formatter and the line it is formatting.</summary>
    private sealed class Scratch(AccessLogFormatter formatter)
    {
        public readonly AccessLogFormatter Formatter = formatter;
        public readonly ArrayBufferWriter<byte> Line = new(1024);
    }

    /// <summary>A wall-clock reading and the <see cref="Stopwatch"/> timestamp it was taken at.</summary>
    private sealed class WallClock(DateTime utc, long timestamp)
    {
        public readonly DateTime Utc = utc;
        public readonly long Timestamp = timestamp;
        public static readonly double TicksPerTimestampTick = (double)TimeSpan.TicksPerSecond / Stopwatch.Frequency;

        public static WallClock Now() => new(DateTime.UtcNow, Stopwatch.GetTimestamp());
    }
}
