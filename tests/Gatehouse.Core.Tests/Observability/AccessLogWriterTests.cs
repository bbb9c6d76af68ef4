using Gatehouse.Observability;

namespace Gatehouse.Core.Tests.Observability;

public class AccessLogWriterTests
{
    /// <summary>An output whose writes wait until the test opens the gate: a stalled disk or terminal.</summary>
    private sealed class GatedStream : MemoryStream
    {
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource FirstWrite { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            FirstWrite.TrySetResult();
            await Gate.Task;
            await base.WriteAsync(buffer, cancellationToken);
        }
    }

    private static GatewayRequestTelemetry Line(int i) => new() { Method = "GET", Path = $"/{i}", StatusCode = 200, StartTime = DateTime.UtcNow };

    [Fact]
    public async Task StalledOutput_FullQueue_TryEnqueueFalse_NeverBlocks_ThenEverythingQueuedIsWritten()
    {
        var output = new GatedStream();
        await using var writer = new AccessLogWriter(new AccessLogOptions { QueueSize = 16 }, [], () => output);

        Assert.True(writer.TryEnqueue(Line(0)));
        await output.FirstWrite.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var accepted = 0;
        var refused = 0;
        for (var i = 1; i <= 40; i++)
        {
            if (writer.TryEnqueue(Line(i)))
            {
                accepted++;
            }
            else
            {
                refused++;
            }
        }

        Assert.Equal(16, accepted);
        Assert.Equal(24, refused);

        output.Gate.SetResult();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (writer.Written < 17 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Equal(17, writer.Written);
    }
}
