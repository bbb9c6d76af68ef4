using System.Security.Cryptography;
using System.Text;
using Gatehouse.Redis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using StackExchange.Redis;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// Entries in Redis, shared by every gateway node that points at it. A failing or slow Redis is a miss, never an
/// error: every call is bounded by <c>redis.timeout</c> and failures are counted and logged, not thrown.
/// </summary>
/// <remarks>
/// Layout, under <c>redis.keyPrefix</c>:
/// <list type="bullet">
/// <item><c>cache:&lt;hash&gt;</c>: the entry (a small binary header, then the body), expiring when it may no longer be served. The hash is
/// SHA-256 of the key; the key itself is stored in the entry and compared on read, so a collision is a miss.</item>
/// <item><c>cache-tag:&lt;tag&gt;</c>: a set of entry keys per tag, for purge by tag.</item>
/// <item><c>cache-paths</c>: a sorted set whose members are <c>path \n origin \n entry key</c>, all with score 0, so a
/// prefix purge is one <c>ZRANGEBYLEX</c> instead of a <c>SCAN</c> over the whole keyspace.</item>
/// </list>
/// Index members whose entry expired stay until a purge touches them (a purge deletes what it finds); the
/// indexes expire themselves when no entry has been written for as long as the longest-lived entry.
/// </remarks>
internal sealed partial class RedisCacheStore(ConnectionMultiplexer connection, RedisOptions options, CacheMetrics metrics, ILogger<RedisCacheStore> logger) : ICacheStore
{
    private const byte Version = 1;

    // One round trip, atomic: the entry, its tags and path index, each index kept at least as long as the entry.
    private const string SetScript = """
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        local function keep(k)
          local ttl = redis.call('PTTL', k)
          if ttl >= 0 and ttl < tonumber(ARGV[2]) then redis.call('PEXPIRE', k, ARGV[2]) end
          if ttl == -1 then redis.call('PEXPIRE', k, ARGV[2]) end
        end
        redis.call('ZADD', KEYS[2], 0, ARGV[3])
        keep(KEYS[2])
        for i = 3, #KEYS do
          redis.call('SADD', KEYS[i], KEYS[1])
          keep(KEYS[i])
        end
        return 1
        """;

    private readonly IDatabase _database = connection.GetDatabase();
    private readonly string _prefix = options.KeyPrefix;
    private readonly TimeSpan _timeout = options.Timeout;

    private string EntryKey(string key) =>
        _prefix + "cache:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)).AsSpan(0, 16));

    private RedisKey PathsKey => (RedisKey)(_prefix + "cache-paths");

    private RedisKey TagKey(string tag) => (RedisKey)(_prefix + "cache-tag:" + tag);

    public async ValueTask<CachedResponse?> GetAsync(string key)
    {
        try
        {
            var value = await _database.StringGetAsync((RedisKey)EntryKey(key)).WaitAsync(_timeout);
            if (value.IsNull)
            {
                return null;
            }

            var entry = Deserialize((byte[])value!);
            return entry?.Key == key ? entry : null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or EndOfStreamException or IOException)
        {
            metrics.StoreFailed("read");
            LogFailed(logger, "read", e.GetType().Name);
            return null;
        }
    }

    public async ValueTask SetAsync(CachedResponse entry, DateTimeOffset now)
    {
        var keepFor = entry.KeepFor(now);
        if (keepFor < TimeSpan.FromMilliseconds(1) || entry.Body.Length > RouteCacheOptions.RedisMaxEntryBytes)
        {
            return;
        }

        var entryKey = EntryKey(entry.Key);
        var keys = new RedisKey[2 + entry.Tags.Length];
        keys[0] = entryKey;
        keys[1] = PathsKey;
        for (var i = 0; i < entry.Tags.Length; i++)
        {
            keys[2 + i] = TagKey(entry.Tags[i]);
        }

        try
        {
            await _database.ScriptEvaluateAsync(SetScript, keys,
                [Serialize(entry), (long)Math.Ceiling(keepFor.TotalMilliseconds), entry.Path + "\n" + entry.Origin + "\n" + entryKey])
                .WaitAsync(_timeout * 4);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            metrics.StoreFailed("write");
            LogFailed(logger, "write", e.GetType().Name);
        }
    }

    public async ValueTask<int> PurgeAsync(CachePurge purge)
    {
        var doomed = new HashSet<string>(StringComparer.Ordinal);
        var members = new List<RedisValue>();
        if (purge.Tag is { } tag)
        {
            foreach (var member in await _database.SetMembersAsync(TagKey(tag)))
            {
                doomed.Add(member.ToString());
            }

            await _database.KeyDeleteAsync(TagKey(tag));
        }

        if (purge.Prefix is not null || purge.Path is not null)
        {
            var from = purge.Prefix ?? purge.Path + "\n";
            var start = Encoding.UTF8.GetBytes(from);
            var end = new byte[start.Length + 1];
            start.CopyTo(end, 0);
            end[^1] = 0xFF;
            foreach (var member in await _database.SortedSetRangeByValueAsync(PathsKey, start, end, Exclude.None))
            {
                var parts = member.ToString().Split('\n');
                if (parts.Length == 3 && (purge.Path is null || parts[1] == purge.Origin))
                {
                    doomed.Add(parts[2]);
                    members.Add(member);
                }
            }
        }

        if (doomed.Count == 0)
        {
            return 0;
        }

        var deleted = await _database.KeyDeleteAsync(doomed.Select(k => (RedisKey)k).ToArray());
        if (members.Count > 0)
        {
            await _database.SortedSetRemoveAsync(PathsKey, members.ToArray());
        }

        return (int)deleted;
    }

    internal static byte[] Serialize(CachedResponse entry)
    {
        using var stream = new MemoryStream(entry.Body.Length + 512);
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Version);
            writer.Write(entry.Key);
            writer.Write(entry.Status);
            writer.Write(entry.RequestTime.UtcTicks);
            writer.Write(entry.ResponseTime.UtcTicks);
            writer.Write(entry.InitialAge.Ticks);
            writer.Write(entry.FreshnessLifetime.Ticks);
            writer.Write(entry.StaleWhileRevalidate.Ticks);
            writer.Write(entry.StaleIfError.Ticks);
            writer.Write((byte)((entry.MustRevalidate ? 1 : 0) | (entry.NoCache ? 2 : 0)));
            WriteOptional(writer, entry.ETag);
            WriteOptional(writer, entry.LastModified);
            writer.Write(entry.Origin);
            writer.Write(entry.Path);
            WriteStrings(writer, entry.VaryNames);
            WriteStrings(writer, entry.VaryValues);
            WriteStrings(writer, entry.Tags);
            writer.Write(entry.HeaderNames.Length);
            for (var i = 0; i < entry.HeaderNames.Length; i++)
            {
                writer.Write(entry.HeaderNames[i]);
                WriteStrings(writer, entry.HeaderValues[i].ToArray()!);
            }

            writer.Write(entry.Body.Length);
            writer.Write(entry.Body);
        }

        return stream.ToArray();
    }

    internal static CachedResponse? Deserialize(byte[] data)
    {
        using var reader = new BinaryReader(new MemoryStream(data), Encoding.UTF8);
        if (reader.ReadByte() != Version)
        {
            return null;
        }

        var key = reader.ReadString();
        var status = reader.ReadInt32();
        var requestTime = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        var responseTime = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        var initialAge = new TimeSpan(reader.ReadInt64());
        var lifetime = new TimeSpan(reader.ReadInt64());
        var swr = new TimeSpan(reader.ReadInt64());
        var sie = new TimeSpan(reader.ReadInt64());
        var flags = reader.ReadByte();
        var etag = ReadOptional(reader);
        var lastModified = ReadOptional(reader);
        var origin = reader.ReadString();
        var path = reader.ReadString();
        var varyNames = ReadStrings(reader);
        var varyValues = ReadStrings(reader);
        var tags = ReadStrings(reader);
        var count = reader.ReadInt32();
        var names = new string[count];
        var values = new StringValues[count];
        for (var i = 0; i < count; i++)
        {
            names[i] = reader.ReadString();
            values[i] = new StringValues(ReadStrings(reader));
        }

        var body = reader.ReadBytes(reader.ReadInt32());
        return new CachedResponse
        {
            Key = key,
            Status = status,
            HeaderNames = names,
            HeaderValues = values,
            Body = body,
            Freshness = new Freshness(requestTime, responseTime, initialAge, lifetime, swr, sie, MustRevalidate: (flags & 1) != 0, NoCache: (flags & 2) != 0),
            ETag = etag,
            LastModified = lastModified,
            VaryNames = varyNames,
            VaryValues = varyValues,
            Tags = tags,
            Origin = origin,
            Path = path,
            Size = data.Length,
        };
    }

    private static void WriteOptional(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null)
        {
            writer.Write(value);
        }
    }

    private static string? ReadOptional(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;

    private static void WriteStrings(BinaryWriter writer, string[] values)
    {
        writer.Write(values.Length);
        foreach (var value in values)
        {
            writer.Write(value ?? "");
        }
    }

    private static string[] ReadStrings(BinaryReader reader)
    {
        var values = new string[reader.ReadInt32()];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.ReadString();
        }

        return values;
    }

    [LoggerMessage(EventId = Observability.LogEvents.CacheStoreFailed, Level = LogLevel.Warning, Message = "Redis cache {Operation} failed ({Reason}); treated as a miss")]
    private static partial void LogFailed(ILogger logger, string operation, string reason);
}
