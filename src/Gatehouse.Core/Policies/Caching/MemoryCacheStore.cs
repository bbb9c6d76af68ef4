using System.Collections.Concurrent;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// This node's entries, bounded by bytes, least recently used evicted first.
/// </summary>
/// <remarks>
/// Not ASP.NET Core OutputCaching's <c>IOutputCacheStore</c> (nor <c>MemoryCache</c>): that store keeps opaque
/// serialized bytes under a single expiry, so every hit would deserialize headers, and it has no notion of RFC 9111
/// age, stale-while-revalidate, stale-if-error, validators or Vary; its tag eviction is the only part that would fit.
/// Here a hit is one dictionary lookup by a span (no key string built) and a timestamp write; LRU is approximate:
/// each entry carries its last-use time (written without a lock), and when the bytes exceed the bound one thread
/// evicts the least recently used down to 90% in a batch, so no lock is ever taken on the hit path.
/// </remarks>
internal sealed class MemoryCacheStore : ICacheStore
{
    private readonly ConcurrentDictionary<string, CachedResponse> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CachedResponse>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly Lock _evicting = new();
    private long _bytes;

    public MemoryCacheStore(long maxBytes)
    {
        MaxBytes = maxBytes;
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The bound; a reload may change it (the next store evicts down to it).</summary>
    public long MaxBytes { get; set; }

    public long Bytes => Interlocked.Read(ref _bytes);

    public int Count => _entries.Count;

    public bool TryGet(ReadOnlySpan<char> key, out CachedResponse? entry)
    {
        if (!_bySpan.TryGetValue(key, out entry))
        {
            return false;
        }

        // Only when it changed: a hot entry's stamp is not rewritten by every core on every hit (cache-line traffic).
        var now = Environment.TickCount64;
        if (now - entry.LastAccess >= 100)
        {
            entry.LastAccess = now;
        }

        return true;
    }

    public ValueTask<CachedResponse?> GetAsync(string key) =>
        ValueTask.FromResult(TryGet(key, out var entry) ? entry : null);

    public ValueTask SetAsync(CachedResponse entry, DateTimeOffset now)
    {
        Set(entry);
        return ValueTask.CompletedTask;
    }

    public void Set(CachedResponse entry)
    {
        if (entry.Size > MaxBytes)
        {
            return;
        }

        entry.LastAccess = Environment.TickCount64;
        while (true)
        {
            if (_entries.TryGetValue(entry.Key, out var old))
            {
                if (_entries.TryUpdate(entry.Key, entry, old))
                {
                    Interlocked.Add(ref _bytes, entry.Size - old.Size);
                    break;
                }
            }
            else if (_entries.TryAdd(entry.Key, entry))
            {
                Interlocked.Add(ref _bytes, entry.Size);
                break;
            }
        }

        if (Interlocked.Read(ref _bytes) > MaxBytes)
        {
            Evict();
        }
    }

    public bool Remove(CachedResponse entry)
    {
        if (_entries.TryRemove(new KeyValuePair<string, CachedResponse>(entry.Key, entry)))
        {
            Interlocked.Add(ref _bytes, -entry.Size);
            return true;
        }

        return false;
    }

    private void Evict()
    {
        // One evictor at a time; the others carry on (the bound is briefly exceeded by what they add meanwhile).
        if (!_evicting.TryEnter())
        {
            return;
        }

        try
        {
            var target = MaxBytes / 10 * 9;
            var byAge = _entries.Values.ToArray();
            Array.Sort(byAge, static (a, b) => a.LastAccess.CompareTo(b.LastAccess));
            foreach (var entry in byAge)
            {
                if (Interlocked.Read(ref _bytes) <= target)
                {
                    break;
                }

                Remove(entry);
            }
        }
        finally
        {
            _evicting.Exit();
        }
    }

    public ValueTask<int> PurgeAsync(CachePurge purge)
    {
        var purged = 0;
        foreach (var (_, entry) in _entries)
        {
            if (purge.Matches(entry) && Remove(entry))
            {
                purged++;
            }
        }

        return ValueTask.FromResult(purged);
    }
}
