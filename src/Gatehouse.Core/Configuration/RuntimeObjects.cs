using System.Collections.Frozen;

namespace Gatehouse.Configuration;

/// <summary>
/// The one way runtime state outlives a reload: limiters and their counters, cache stores, breakers and budgets,
/// signing-key sets. A policy compiler asks for its object by its kind and a settings key (what the state depends
/// on); when the snapshot in force has an object under the same kind and key, the new snapshot gets that same
/// object, counters and all; otherwise a new one is made. After a swap, objects the new snapshot no longer holds are
/// disposed (requests of the old snapshot still in flight may use them: disposing only stops their background work).
/// This generalises what <c>ServiceResilience.Compile(service, previous)</c> did for breakers, as Envoy's filter
/// config factories reuse shared state.
/// </summary>
internal sealed class RuntimeObjects
{
    private readonly FrozenDictionary<(string Kind, string Key), object> _previous;
    private readonly Dictionary<(string Kind, string Key), object> _objects = [];
    private readonly List<object> _created = [];

    public RuntimeObjects(GatewaySnapshot? previous) =>
        _previous = previous?.Runtime ?? FrozenDictionary<(string, string), object>.Empty;

    /// <summary>
    /// The snapshot is compiled to be judged, never served (<c>gatehouse validate</c>, <c>explain</c>): compilers make
    /// every policy as usual but connect to nothing (a Redis-backed object is stood in for by its in-memory kind).
    /// </summary>
    public bool CheckOnly { get; init; }

    /// <summary>The previous snapshot's object of this kind and key, or a new one.</summary>
    public T GetOrCreate<T>(string kind, string key, Func<T> create)
        where T : class
    {
        if (_objects.TryGetValue((kind, key), out var held))
        {
            return (T)held;
        }

        if (!_previous.TryGetValue((kind, key), out var kept) || kept is not T)
        {
            kept = create();
            _created.Add(kept);
        }

        _objects[(kind, key)] = kept;
        return (T)kept;
    }

    /// <inheritdoc cref="GetOrCreate{T}"/>
    public async ValueTask<T> GetOrCreateAsync<T>(string kind, string key, Func<Task<T>> create)
        where T : class
    {
        if (_objects.TryGetValue((kind, key), out var held) || _previous.TryGetValue((kind, key), out held) && held is T)
        {
            _objects[(kind, key)] = held;
            return (T)held;
        }

        var made = await create();
        _created.Add(made);
        _objects[(kind, key)] = made;
        return made;
    }

    /// <summary>What the compiled snapshot holds.</summary>
    public FrozenDictionary<(string Kind, string Key), object> Freeze() => _objects.ToFrozenDictionary();

    /// <summary>A compiled snapshot was refused (YARP's check): what it made for itself is thrown away.</summary>
    public void Abandon()
    {
        foreach (var made in _created)
        {
            (made as IDisposable)?.Dispose();
        }
    }

    /// <summary>
    /// After <paramref name="next"/> replaced <paramref name="previous"/>, or when <paramref name="previous"/> was
    /// refused (then <paramref name="next"/> is the one kept in force, or null): dispose what only the old one held.
    /// </summary>
    public static void Retire(GatewaySnapshot previous, GatewaySnapshot? next)
    {
        foreach (var (key, value) in previous.Runtime)
        {
            if (next is null || !next.Runtime.TryGetValue(key, out var kept) || !ReferenceEquals(kept, value))
            {
                (value as IDisposable)?.Dispose();
            }
        }
    }
}
