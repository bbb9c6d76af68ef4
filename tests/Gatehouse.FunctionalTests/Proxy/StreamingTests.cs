using System.Buffers;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Proxy;

/// <summary>Bodies stream through the gateway both ways; nothing is buffered whole.</summary>
public class StreamingTests
{
    private const long OneGigabyte = 1L << 30;

    [Fact]
    public async Task Download_1GB_GatewayMemoryGrowsByTensOfMbAtMost()
    {
        await using var backend = await TestBackend.StartAsync(app => app.MapGet("/big", async context =>
        {
            context.Response.ContentLength = OneGigabyte;
            var chunk = new byte[64 * 1024];
            for (long sent = 0; sent < OneGigabyte; sent += chunk.Length)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
            }
        }));
        var path = Path.Combine(Directory.CreateTempSubdirectory("gatehouse-stream-").FullName, "gatehouse.yaml");
        await File.WriteAllTextAsync(path, $$"""
            listen: ["http://127.0.0.1:0"]
            admin: { listen: "" }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);
        await using var gateway = GatehouseProcess.Start("run", "--config", path);
        using var client = TestGateway.NewClient(await gateway.WaitForListeningAsync());
        client.Timeout = TimeSpan.FromMinutes(2);

        // Warm up so that JIT and pools are counted in the baseline, not in the growth.
        using (var warm = await client.GetAsync("/healthz-not-there"))
        {
        }

        var baseline = gateway.RssBytes();
        using var response = await client.GetAsync("/big", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        long received = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            received += read;
        }

        ArrayPool<byte>.Shared.Return(buffer);
        var peak = gateway.PeakRssBytes();

        Assert.Equal(OneGigabyte, received);
        Assert.True(peak - baseline < 64L << 20, $"gateway RSS grew by {(peak - baseline) >> 20} MB while streaming 1 GB (baseline {baseline >> 20} MB, peak {peak >> 20} MB)");
    }

    [Fact]
    public async Task Upload_256MB_StreamsToBackend()
    {
        const long size = 256L << 20;
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s, limits: { maxBodyBytes: 1GB } }
            """);

        using var response = await gateway.Client.PostAsync("/up", new StreamContent(new ZeroStream(size)));

        Assert.Equal(size.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("X-Body-Bytes").Single());
    }

    private sealed class ZeroStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
