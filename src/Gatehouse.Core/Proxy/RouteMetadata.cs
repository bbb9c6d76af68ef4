using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Gatehouse.Proxy;

/// <summary>
/// YARP's <c>RouteConfig.Metadata</c> is a string dictionary; this one also carries the compiled route, so that
/// the endpoint convention can attach typed policies without a lookup by name. The generation entry makes every
/// reload look like a route change to YARP, which then rebuilds the endpoint with the new policies
/// (YARP keeps an endpoint whose RouteConfig compares equal).
/// </summary>
internal sealed class RouteMetadata(CompiledRoute route, long generation) : IReadOnlyDictionary<string, string>
{
    public const string GenerationKey = "gatehouse.generation";

    private readonly KeyValuePair<string, string>[] _entries =
    [
        new(GenerationKey, generation.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("gatehouse.route", route.Name),
    ];

    public CompiledRoute Route { get; } = route;

    public int Count => _entries.Length;

    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    public IEnumerable<string> Values => _entries.Select(e => e.Value);

    public string this[string key] => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException(key);

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        foreach (var entry in _entries)
        {
            if (entry.Key == key)
            {
                value = entry.Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, string>>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
