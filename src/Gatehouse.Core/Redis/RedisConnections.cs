using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gatehouse.Redis;

/// <summary>
/// One StackExchange.Redis multiplexer per connection string, shared by every policy that uses it and kept across
/// reloads. It is made not to wait: a Redis that is down at start does not stop the gateway (the policies'
/// <c>onStoreFailure</c> decides meanwhile), commands fail at once while disconnected instead of queueing, and the
/// multiplexer reconnects by itself about once a second.
/// </summary>
internal sealed partial class RedisConnections(ILogger<RedisConnections> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, Task<ConnectionMultiplexer>> _byConnection = new(StringComparer.Ordinal);

    public Task<ConnectionMultiplexer> GetAsync(RedisOptions options) =>
        _byConnection.GetOrAdd(options.Connection, ConnectAsync);

    private async Task<ConnectionMultiplexer> ConnectAsync(string connection)
    {
        var config = ConfigurationOptions.Parse(connection);
        config.AbortOnConnectFail = false;
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ConnectTimeout = Math.Min(config.ConnectTimeout, 1000);
        config.ReconnectRetryPolicy = new LinearRetry(500);
        config.ClientName = "gatehouse";
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(config);
        multiplexer.ConnectionFailed += (_, e) => LogConnectionFailed(logger, e.EndPoint, e.FailureType);
        multiplexer.ConnectionRestored += (_, e) => LogConnectionRestored(logger, e.EndPoint);
        if (!multiplexer.IsConnected)
        {
            LogNotConnected(logger, Describe(config));
        }

        return multiplexer;
    }

    private static string Describe(ConfigurationOptions config) => string.Join(",", config.EndPoints.Select(e => e.ToString()));

    public void Dispose()
    {
        foreach (var task in _byConnection.Values)
        {
            if (task.IsCompletedSuccessfully)
            {
                task.Result.Dispose();
            }
        }
    }

    [LoggerMessage(EventId = Observability.LogEvents.RedisNotConnected, Level = LogLevel.Warning, Message = "Redis at {Endpoint} is not reachable yet; policies that use it apply their onStoreFailure decision until it is")]
    private static partial void LogNotConnected(ILogger logger, string endpoint);

    [LoggerMessage(EventId = Observability.LogEvents.RedisConnectionLost, Level = LogLevel.Warning, Message = "Lost the connection to Redis at {Endpoint} ({Failure}); reconnecting")]
    private static partial void LogConnectionFailed(ILogger logger, System.Net.EndPoint? endpoint, ConnectionFailureType failure);

    [LoggerMessage(EventId = Observability.LogEvents.RedisConnectionRestored, Level = LogLevel.Information, Message = "Connection to Redis at {Endpoint} restored")]
    private static partial void LogConnectionRestored(ILogger logger, System.Net.EndPoint? endpoint);
}
