using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Observability;

/// <summary>
/// Counts the response body bytes written through the response stream, for the access log's
/// <c>http.response.body.bytes</c> when the response has no <c>Content-Length</c> (a backend's chunked or streamed
/// body). Kestrel keeps no per-request byte count, so the stream is wrapped, only when the backend's response has no
/// <c>Content-Length</c> (the forwarder's response transform decides, before the body is copied); the wrapper belongs
/// to the pooled <see cref="GatewayRequestTelemetry"/>, so it costs no allocation. The forwarder and <c>ProblemWriter</c> write
/// through the stream; <see cref="Writer"/> is passed through uncounted.
/// </summary>
internal sealed class CountingResponseBody : Stream, IHttpResponseBodyFeature
{
    private IHttpResponseBodyFeature _inner = null!;
    private Stream _innerStream = null!;

    public long Count { get; private set; }

    public bool Attached => _inner is not null;

    public void Attach(HttpContext context)
    {
        _inner = context.Features.Get<IHttpResponseBodyFeature>()!;
        _innerStream = _inner.Stream;
        Count = 0;
        context.Features.Set<IHttpResponseBodyFeature>(this);
    }

    /// <summary>Puts the server's own feature back: nothing may reach this object once it is pooled again.</summary>
    public void Detach(HttpContext context)
    {
        context.Features.Set(_inner);
        _inner = null!;
        _innerStream = null!;
    }

    Stream IHttpResponseBodyFeature.Stream => this;

    public PipeWriter Writer => _inner.Writer;

    public void DisableBuffering() => _inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => _inner.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => _inner.SendFileAsync(path, offset, count, cancellationToken);

    public Task CompleteAsync() => _inner.CompleteAsync();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush() => _innerStream.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _innerStream.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count)
    {
        _innerStream.Write(buffer, offset, count);
        Count += count;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _innerStream.Write(buffer);
        Count += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Count += count;
        return _innerStream.WriteAsync(buffer, offset, count, cancellationToken);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Count += buffer.Length;
        return _innerStream.WriteAsync(buffer, cancellationToken);
    }

    // The request owns the inner stream; disposing the wrapper must not end the response (so no call to the inner one).
    protected override void Dispose(bool disposing) => base.Dispose(disposing);
}
