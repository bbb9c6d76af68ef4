using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.ObjectPool;

namespace Gatehouse.Observability;

/// <summary>
/// The access log's writer: requests hand their finished <see cref="GatewayRequestTelemetry"/> to a bounded queue
/// and go on; one background task formats the lines (<see cref="AccessLogFormatter"/>) and writes them in batches.
/// A full queue drops the line and the caller counts it (<c>gatehouse.access_log.dropped</c>): logging never blocks
/// or slows a request when the disk or the terminal is slow.
/// </summary>
internal sealed class AccessLogWriter : IAsyncDisposable
{
    private const int FlushBytes = 64 * 1024;

    // stdout is usually a pipe shared with the console logger: a write of at most PIPE_BUF (4096 on Linux) bytes is
    // atomic, so whole lines never interleave with a log message.
    private const int PipeAtomicBytes = 4096;

    // After a flush the writer rests this long before draining again, so that under load lines go out in large
    // batches (one write per ~20ms, not one wake-up and one syscall per request). Lines appear within about this delay.
    private static readonly TimeSpan BatchDelay = TimeSpan.FromMilliseconds(20);

    private readonly Channel<GatewayRequestTelemetry> _queue;
    private readonly AccessLogFormatter _formatter;
    private readonly AccessLogOptions _options;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushBytes * 2);
    private readonly ArrayBufferWriter<byte> _line = new(1024);
    private readonly Task _loop;
    private readonly Func<Stream>? _openOutput;
    private ObjectPool<GatewayRequestTelemetry>? _pool;
    private Stream? _stream;
    private long _fileBytes;

    /// <param name="openOutput">Tests only: where lines go instead of stdout or the file.</param>
    public AccessLogWriter(AccessLogOptions options, IReadOnlyList<string> redactedQueryParameters, Func<Stream>? openOutput = null)
    {
        _options = options;
        _openOutput = openOutput;
        _formatter = new AccessLogFormatter(redactedQueryParameters);

        // Wait mode with TryWrite: a full queue makes TryWrite return false, so the drop is seen and counted.
        _queue = Channel.CreateBounded<GatewayRequestTelemetry>(new BoundedChannelOptions(options.QueueSize)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        // A file that cannot be opened fails the start, not the first request's line.
        _stream = options.IsStdout || openOutput is not null ? null : Open();
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Lines written so far (for tests and the admin API).</summary>
    public long Written { get; private set; }

    internal void AttachPool(ObjectPool<GatewayRequestTelemetry> pool) => _pool = pool;

    public bool TryEnqueue(GatewayRequestTelemetry telemetry) => _queue.Writer.TryWrite(telemetry);

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var telemetry))
            {
                _line.ResetWrittenCount();
                try
                {
                    _formatter.Write(telemetry, _line);
                    Written++;
                }
                catch (ArgumentException)
                {
                    // A value that is not valid UTF-16 (a lone surrogate): the line is skipped, the writer goes on.
                    continue;
                }
                finally
                {
                    _pool?.Return(telemetry);
                }

                // Rotation falls between lines: a line that would take the file past its size starts the next file.
                if (_buffer.WrittenCount + _line.WrittenCount > (_options.IsStdout ? PipeAtomicBytes : FlushBytes) || (RotatesBySize && _fileBytes + _buffer.WrittenCount + _line.WrittenCount > _options.MaxFileBytes))
                {
                    await FlushAsync().ConfigureAwait(false);
                    await RotateIfFullAsync(_line.WrittenCount).ConfigureAwait(false);
                }

                _buffer.Write(_line.WrittenSpan);
            }

            await FlushAsync().ConfigureAwait(false);
            if (!reader.Completion.IsCompleted)
            {
                await Task.Delay(BatchDelay).ConfigureAwait(false);
            }
        }
    }

    private async Task FlushAsync()
    {
        if (_buffer.WrittenCount == 0)
        {
            return;
        }

        try
        {
            var stream = _stream ??= Open();
            await stream.WriteAsync(_buffer.WrittenMemory).ConfigureAwait(false);
            await stream.FlushAsync().ConfigureAwait(false);
            _fileBytes += _buffer.WrittenCount;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full disk or a closed terminal must not stop the gateway; the next flush tries a fresh stream.
            _stream?.Dispose();
            _stream = null;
        }
        finally
        {
            _buffer.ResetWrittenCount();
        }
    }

    private bool RotatesBySize => !_options.IsStdout && _openOutput is null;

    private async Task RotateIfFullAsync(int next)
    {
        if (!RotatesBySize || _fileBytes == 0 || _fileBytes + next <= _options.MaxFileBytes)
        {
            return;
        }

        try
        {
            if (_stream is not null)
            {
                await _stream.DisposeAsync().ConfigureAwait(false);
            }

            _stream = null;
            Rotate();
            _stream = Open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Rotation failed (e.g. a full disk): the next flush tries a fresh stream.
            _stream = null;
        }
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

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_stream is not null)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }

        _formatter.Dispose();
    }
}
