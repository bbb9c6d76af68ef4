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

    private readonly Channel<GatewayRequestTelemetry> _queue;
    private readonly AccessLogFormatter _formatter;
    private readonly AccessLogOptions _options;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushBytes * 2);
    private readonly Task _loop;
    private ObjectPool<GatewayRequestTelemetry>? _pool;
    private Stream? _stream;
    private long _fileBytes;

    public AccessLogWriter(AccessLogOptions options, IReadOnlyList<string> redactedQueryParameters)
    {
        _options = options;
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
        _stream = options.IsStdout ? null : Open();
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
                try
                {
                    _formatter.Write(telemetry, _buffer);
                    Written++;
                }
                finally
                {
                    _pool?.Return(telemetry);
                }

                if (_buffer.WrittenCount >= FlushBytes)
                {
                    await FlushAsync().ConfigureAwait(false);
                }
            }

            await FlushAsync().ConfigureAwait(false);
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
            if (!_options.IsStdout && _fileBytes > 0 && _fileBytes + _buffer.WrittenCount > _options.MaxFileBytes)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                Rotate();
                stream = _stream = Open();
            }

            await stream.WriteAsync(_buffer.WrittenMemory).ConfigureAwait(false);
            await stream.FlushAsync().ConfigureAwait(false);
            _fileBytes += _buffer.WrittenCount;
        }
        catch (IOException)
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

    private Stream Open()
    {
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
