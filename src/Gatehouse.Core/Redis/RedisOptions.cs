using Gatehouse.Configuration;

namespace Gatehouse.Redis;

/// <summary>
/// <c>redis: { connection: "127.0.0.1:6379", timeout: 20ms }</c>: the Redis that nodes share state through (rate-limit
/// counters now, the response cache later). No Redis is needed unless a policy says <c>store: redis</c>.
/// </summary>
public sealed record RedisOptions : ConfigSection
{
    internal static readonly string[] Keys = ["connection", "timeout", "keyPrefix"];

    /// <summary>A StackExchange.Redis configuration string: <c>host:port[,password=...][,ssl=true]</c>.</summary>
    public required string Connection { get; init; }

    /// <summary>Longest the gateway waits for one Redis answer before the policy's failure decision. Default 50ms.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Prefix of every key the gateway writes, so that one Redis can serve several gateways. Default <c>gatehouse:</c>.</summary>
    public string KeyPrefix { get; init; } = "gatehouse:";

    internal static RedisOptions? Read(ConfigNodeReader r)
    {
        var connection = r.String("connection");
        if (connection is null)
        {
            r.Context.Diagnostics.Error(r.Position, "redis needs a 'connection', e.g. \"127.0.0.1:6379\"");
            return null;
        }

        var defaults = new RedisOptions { Connection = connection };
        return defaults with
        {
            Position = r.Position,
            KeyPositions = r.KeyPositions,
            Timeout = r.Duration("timeout") ?? defaults.Timeout,
            KeyPrefix = r.String("keyPrefix") ?? defaults.KeyPrefix,
        };
    }

    internal static void Validate(RedisOptions options, ConfigDiagnostics diagnostics)
    {
        try
        {
            _ = StackExchange.Redis.ConfigurationOptions.Parse(options.Connection);
        }
        catch (ArgumentException e)
        {
            diagnostics.Error(options.PositionOf("connection"), $"redis.connection is not a valid connection string: {e.Message}");
        }

        if (options.Timeout > TimeSpan.FromSeconds(5))
        {
            diagnostics.Error(options.PositionOf("timeout"), "redis.timeout must be at most 5s: every request waiting on it waits that long when Redis is slow");
        }
    }

    // Records print every member; a connection string may carry a password.
    protected override bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Timeout = ").Append(Timeout).Append(", KeyPrefix = ").Append(KeyPrefix);
        return true;
    }
}
