using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Resilience;

public class ConnectTimeoutTests
{
    /// <summary>
    /// A loopback listener that never accepts, its accept queue filled: further connection attempts get no answer
    /// at all (Linux drops their SYNs), which is what an unreachable host looks like.
    /// </summary>
    private sealed class BlackHole : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly List<Socket> _fillers = [];

        public BlackHole()
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(0);
            Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}";
        }

        public string Url { get; }

        /// <summary>Connects until a connection attempt hangs: from then on the queue is full.</summary>
        public async Task FillAsync()
        {
            for (var i = 0; i < 16; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                _fillers.Add(socket);
                using var quick = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
                try
                {
                    await socket.ConnectAsync(_listener.LocalEndPoint!, quick.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            throw new InvalidOperationException("the accept queue never filled up");
        }

        public void Dispose()
        {
            foreach (var socket in _fillers)
            {
                socket.Dispose();
            }

            _listener.Dispose();
        }
    }

    [Fact]
    public async Task ConnectTimeout_TargetNeverAnswers_504WithinBound_ThenRetriedOnTheOtherTarget()
    {
        using var hole = new BlackHole();
        await hole.FillAsync();
        await using var live = await FaultBackend.StartAsync("live");
        var config = $$"""
            services:
              s:
                targets: ["{{hole.Url}}"TARGET]
                loadBalancing: roundRobin
                timeout: { connect: 500ms }
                RETRY
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """;
        await using var gateway = await TestGateway.StartAsync(config.Replace("TARGET", "", StringComparison.Ordinal).Replace("RETRY", "", StringComparison.Ordinal));

        // The first timeout of the process loads its exception machinery; the next three are measured. None may end
        // before the bound; the quickest must end near it (one alone can be late when this shared machine is busy).
        (await gateway.Client.GetAsync("/x")).Dispose();
        var elapsed = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await gateway.Client.GetAsync("/x");
            elapsed.Add(watch.Elapsed.TotalMilliseconds);
            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        }

        Assert.All(elapsed, ms => Assert.True(ms >= 450, $"ended after {ms} ms, before the 500 ms connect timeout"));
        Assert.InRange(elapsed.Min(), 450, 550);

        // With a second target and retries on, a connect failure is retried there: every request is answered.
        await gateway.RewriteConfigAsync(config
            .Replace("TARGET", $", \"{live.Url}\"", StringComparison.Ordinal)
            .Replace("RETRY", "retry: { attempts: 1, on: [connectFailure], backoff: 1ms }", StringComparison.Ordinal));
        for (var i = 0; i < 4; i++)
        {
            using var response = await gateway.Client.GetAsync("/x");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(4, live.Requests);
    }
}
