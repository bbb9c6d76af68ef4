using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Proxy;

/// <summary>
/// Response fields that belong to this one request (today the rate limit's <c>RateLimit-Policy</c> / <c>RateLimit</c>
/// and legacy <c>X-RateLimit-*</c> fields), held as a typed feature until the response is made: added after the
/// backend's own headers by <see cref="DeferredResponseHeadersTransformProvider"/>, or by the cache stage when it
/// answers from its store, and never stored with a cached response. Not set on the response before forwarding, as
/// the rate limit's first version did: measured in bench/ratelimit.sh, two fields set there cost ~3% of a proxied
/// request's CPU, the same two fields set after the backend's headers nothing measurable (the cause inside the
/// forwarding path was not found; see docs/benchmarks.md).
/// </summary>
/// <remarks>
/// The pairs live inline in the object, so a request's fields cost one allocation (128 bytes with six slots) and no
/// list or array, as the rate limit's hot path needs; only a stage adding more than <see cref="InlineCapacity"/>
/// fields allocates more.
/// </remarks>
internal sealed class DeferredResponseHeaders
{
    /// <summary>The rate limit's five fields and one to spare.</summary>
    public const int InlineCapacity = 6;

    private InlinePairs _inline;
    private int _count;
    private List<KeyValuePair<string, StringValues>>? _overflow;

    /// <summary>This request's fields, created (and set as its feature) by the first stage that adds one.</summary>
    public static DeferredResponseHeaders Of(HttpContext context)
    {
        if (context.Features.Get<DeferredResponseHeaders>() is { } held)
        {
            return held;
        }

        var created = new DeferredResponseHeaders();
        context.Features.Set(created);
        return created;
    }

    public int Count => _count + (_overflow?.Count ?? 0);

    /// <summary>Holds a field; a second one of the same name replaces the first (names compare case-insensitively).</summary>
    public void Add(string name, StringValues value)
    {
        var index = IndexOf(name);
        if (index >= 0)
        {
            Set(index, new(name, value));
        }
        else if (_count < InlineCapacity)
        {
            _inline[_count++] = new(name, value);
        }
        else
        {
            (_overflow ??= []).Add(new(name, value));
        }
    }

    /// <summary>Whether a field of this name is held: a stage that stores responses leaves such fields out.</summary>
    public bool Holds(string name) => IndexOf(name) >= 0;

    /// <summary>Sets the held fields on <paramref name="headers"/>, replacing any of the same name (a backend's own included).</summary>
    public void Apply(IHeaderDictionary headers)
    {
        for (var i = 0; i < _count; i++)
        {
            headers[_inline[i].Key] = _inline[i].Value;
        }

        if (_overflow is not null)
        {
            foreach (var (name, value) in _overflow)
            {
                headers[name] = value;
            }
        }
    }

    private int IndexOf(string name)
    {
        for (var i = 0; i < _count; i++)
        {
            if (string.Equals(_inline[i].Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        // A loop, not FindIndex: a lambda capturing the name would allocate on every call, overflow or not.
        for (var i = 0; _overflow is not null && i < _overflow.Count; i++)
        {
            if (string.Equals(_overflow[i].Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return InlineCapacity + i;
            }
        }

        return -1;
    }

    private void Set(int index, KeyValuePair<string, StringValues> pair)
    {
        if (index < InlineCapacity)
        {
            _inline[index] = pair;
        }
        else
        {
            _overflow![index - InlineCapacity] = pair;
        }
    }

    [InlineArray(InlineCapacity)]
    private struct InlinePairs
    {
        private KeyValuePair<string, StringValues> _first;
    }
}
