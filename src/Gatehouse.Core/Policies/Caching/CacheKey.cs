using System.Buffers;
using Gatehouse.Policies.Authentication;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// Builds the cache key: route, method (HEAD reads GET's entry), scheme, host, path, the keyed query parameters
/// (sorted) or the whole sorted query, the keyed request headers, and the consumer (qualified by the provider that
/// authenticated it) when the route keys by consumer.
/// Nothing else of the request reaches the key, and a request carrying an input that could change the backend's
/// answer without being keyed (an unkeyed query parameter, a URL-override header the operator kept, a body on a GET,
/// no consumer on a route keyed by consumer) bypasses the cache altogether. Headers a backend might also answer by
/// (X-Forwarded-Port, X-Host, ...) are removed before routing (<c>RequestHeaderFilter</c>); a backend that answers by
/// any other unkeyed header needs it in <c>varyBy.headers</c> or a Vary.
/// </summary>
/// <remarks>Written into a caller-supplied buffer so that a hit can be looked up without allocating a string.</remarks>
internal static class CacheKey
{
    private const char Separator = '\n';

    /// <summary>Headers that make some backends (IIS, Symfony, Laravel, many frameworks) serve another URL or method than the one keyed.</summary>
    private static readonly string[] OverrideHeaders = ["X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"];

    /// <summary>The most query parameters a keyed request may have (more bypass the cache rather than sort a long list).</summary>
    private const int MaxQueryParameters = 64;

    /// <summary>
    /// Writes the key into a buffer rented from the shared array pool (the caller returns it). Returns false when the request must bypass the
    /// cache (then <paramref name="buffer"/> is null).
    /// </summary>
    public static bool TryBuild(HttpContext context, CachePolicy policy, out char[]? buffer, out int length)
    {
        buffer = null;
        length = 0;
        var request = context.Request;
        var headers = request.Headers;

        // A GET or HEAD with a body (fat GET): a backend that reads it answers by something the key does not hold.
        if (request.ContentLength is > 0 || headers.TransferEncoding.Count > 0)
        {
            return false;
        }

        foreach (var name in OverrideHeaders)
        {
            if (headers.ContainsKey(name))
            {
                return false;
            }
        }

        var query = request.QueryString.Value.AsSpan();
        if (!query.IsEmpty && query[0] == '?')
        {
            query = query[1..];
        }

        // Keyed by consumer, a request without one has no entry of its own: keying it under a shared "nobody" would
        // give every such caller the answer meant for another (any Authorization header, a token without sub).
        var consumer = policy.KeyByConsumer ? (context.User as CallerPrincipal)?.Caller.QualifiedConsumer : null;
        if (policy.KeyByConsumer && consumer is null)
        {
            return false;
        }

        var host = request.Host.Value ?? "";
        var path = request.PathBase.HasValue ? request.PathBase.Value + request.Path.Value : request.Path.Value ?? "";
        var estimate = policy.Route.Length + 8 + request.Scheme.Length + host.Length + path.Length + query.Length + 16 + (consumer?.Length ?? 0);
        foreach (var name in policy.HeaderNames)
        {
            estimate += name.Length + 2;
            foreach (var value in headers[name])
            {
                estimate += (value?.Length ?? 0) + 1;
            }
        }

        var chars = ArrayPool<char>.Shared.Rent(estimate);
        var writer = new Writer(chars);
        writer.Append(policy.Route);
        writer.Append(Separator);
        writer.Append("GET");
        writer.Append(Separator);
        writer.Append(request.Scheme);
        writer.Append(Separator);
        writer.AppendLower(host);
        writer.Append(Separator);
        writer.Append(path);
        writer.Append(Separator);
        if (!AppendQuery(ref writer, query, policy.QueryNames))
        {
            ArrayPool<char>.Shared.Return(writer.Buffer);
            return false;
        }

        foreach (var name in policy.HeaderNames)
        {
            writer.Append(Separator);
            writer.Append(name);
            writer.Append(':');
            var values = headers[name];
            for (var i = 0; i < values.Count; i++)
            {
                if (i > 0)
                {
                    writer.Append(',');
                }

                writer.Append(values[i]);
            }
        }

        if (consumer is not null)
        {
            writer.Append(Separator);
            writer.Append('=');
            writer.Append(consumer);
        }

        buffer = writer.Buffer;
        length = writer.Length;
        return true;
    }

    /// <summary>The key as a string, for tests and the slow paths.</summary>
    public static string? Build(HttpContext context, CachePolicy policy)
    {
        if (!TryBuild(context, policy, out var buffer, out var length))
        {
            return null;
        }

        var key = new string(buffer!, 0, length);
        ArrayPool<char>.Shared.Return(buffer!);
        return key;
    }

    private static bool AppendQuery(ref Writer writer, ReadOnlySpan<char> query, string[]? keyed)
    {
        if (query.IsEmpty)
        {
            return true;
        }

        Span<Range> parts = stackalloc Range[MaxQueryParameters + 1];
        var count = query.Split(parts, '&');
        if (count > MaxQueryParameters)
        {
            return false;
        }

        parts = parts[..count];
        if (keyed is null)
        {
            // The whole query, sorted so that ?a=1&b=2 and ?b=2&a=1 share an entry (order kept among equal names).
            SortStable(query, parts);
            for (var i = 0; i < parts.Length; i++)
            {
                if (query[parts[i]].IsEmpty)
                {
                    continue;
                }

                writer.Append('&');
                writer.Append(query[parts[i]]);
            }

            return true;
        }

        // Every parameter must be keyed: an unkeyed one could change the answer (?callback=, ?lang=) and would then
        // be served to requests without it.
        foreach (var part in parts)
        {
            var segment = query[part];
            if (segment.IsEmpty)
            {
                continue;
            }

            var equals = segment.IndexOf('=');
            var name = equals < 0 ? segment : segment[..equals];
            if (!Contains(keyed, name))
            {
                return false;
            }
        }

        foreach (var name in keyed)
        {
            foreach (var part in parts)
            {
                var segment = query[part];
                var equals = segment.IndexOf('=');
                var segmentName = equals < 0 ? segment : segment[..equals];
                if (segmentName.SequenceEqual(name))
                {
                    writer.Append('&');
                    writer.Append(segment);
                }
            }
        }

        return true;
    }

    private static bool Contains(string[] names, ReadOnlySpan<char> name)
    {
        foreach (var n in names)
        {
            if (name.SequenceEqual(n))
            {
                return true;
            }
        }

        return false;
    }

    private static void SortStable(ReadOnlySpan<char> query, Span<Range> parts)
    {
        // Insertion sort: a handful of parameters, no allocation, stable.
        for (var i = 1; i < parts.Length; i++)
        {
            var current = parts[i];
            var j = i - 1;
            while (j >= 0 && query[parts[j]].SequenceCompareTo(query[current]) > 0)
            {
                parts[j + 1] = parts[j];
                j--;
            }

            parts[j + 1] = current;
        }
    }

    /// <summary>Appends into the rented buffer, growing it (through the pool) if the estimate was short.</summary>
    private ref struct Writer(char[] buffer)
    {
        private char[] _buffer = buffer;

        public int Length { get; private set; }

        public readonly char[] Buffer => _buffer;

        public void Append(char c)
        {
            Ensure(1);
            _buffer[Length++] = c;
        }

        public void Append(ReadOnlySpan<char> text)
        {
            Ensure(text.Length);
            text.CopyTo(_buffer.AsSpan(Length));
            Length += text.Length;
        }

        public void AppendLower(ReadOnlySpan<char> text)
        {
            Ensure(text.Length);
            text.ToLowerInvariant(_buffer.AsSpan(Length));
            Length += text.Length;
        }

        private void Ensure(int more)
        {
            if (Length + more > _buffer.Length)
            {
                var bigger = ArrayPool<char>.Shared.Rent(Math.Max(_buffer.Length * 2, Length + more));
                _buffer.AsSpan(0, Length).CopyTo(bigger);
                ArrayPool<char>.Shared.Return(_buffer);
                _buffer = bigger;
            }
        }
    }
}
