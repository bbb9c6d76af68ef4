using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// Stands in for the response body while a cacheable request is forwarded. When the response starts (first write,
/// flush, <c>StartAsync</c>), <see cref="Decide"/> looks at the status and headers and picks: pass through; tee
/// (pass through to the client while keeping a copy up to <c>maxEntryBytes</c>; past that the copy is dropped and
/// the rest just passes); or discard (the client never sees this response: a 304 that revalidated the stored entry,
/// or a 5xx that a stale entry will replace under stale-if-error).
/// </summary>
internal sealed class CachingResponseBody(IHttpResponseBodyFeature inner, Func<CachingResponseBody, CaptureMode> decide, long maxBytes)
    : Stream, IHttpResponseBodyFeature
{
    private MemoryStream? _copy;
    private PipeWriter? _writer;

    public CaptureMode Mode { get; private set; } = CaptureMode.Undecided;

    public IHttpResponseBodyFeature Inner => inner;

    /// <summary>The copy of the body, or null when nothing was kept (not storable or too large).</summary>
    public MemoryStream? Copy => Mode == CaptureMode.Tee ? _copy ??= new MemoryStream() : null;

    /// <summary>Runs the decision now if the response never started (an empty body, or an error the outer stage will write).</summary>
    public CaptureMode Decide()
    {
        if (Mode == CaptureMode.Undecided)
        {
            Mode = decide(this);
            if (Mode == CaptureMode.Tee)
            {
                _copy = new MemoryStream();
            }
        }

        return Mode;
    }

    private void Keep(ReadOnlySpan<byte> data)
    {
        if (Mode != CaptureMode.Tee)
        {
            return;
        }

        if (_copy!.Length + data.Length > maxBytes)
        {
            // Too large to store: stop copying, keep passing it on.
            _copy = null;
            Mode = CaptureMode.PassThrough;
            return;
        }

        _copy.Write(data);
    }

    public Stream Stream => this;

    public PipeWriter Writer => _writer ??= PipeWriter.Create(this, new StreamPipeWriterOptions(leaveOpen: true));

    public void DisableBuffering() => inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) =>
        Decide() == CaptureMode.Discard ? Task.CompletedTask : inner.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        SendFileFallback.SendFileAsync(this, path, offset, count, cancellationToken);

    public async Task CompleteAsync()
    {
        if (_writer is not null)
        {
            await _writer.FlushAsync();
        }

        if (Decide() != CaptureMode.Discard)
        {
            await inner.CompleteAsync();
        }
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => FlushAsync().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        Decide() == CaptureMode.Discard ? Task.CompletedTask : inner.Stream.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Decide() == CaptureMode.Discard)
        {
            return ValueTask.CompletedTask;
        }

        Keep(buffer.Span);
        return inner.Stream.WriteAsync(buffer, cancellationToken);
    }
}
