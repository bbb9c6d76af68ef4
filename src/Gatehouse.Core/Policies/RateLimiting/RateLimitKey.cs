using System.Net;
using Gatehouse.Policies.Authentication;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Policies.RateLimiting;

/// <summary>
/// What one counter is kept for, compiled from <c>key: consumer</c> or <c>key: [consumer, route]</c>. A consumer,
/// header or claim the request does not have falls back to the client address, which comes from the socket or a
/// configured trusted proxy, so a caller can never pick a fresh key per request by leaving the credential out.
/// A header or claim value longer than <see cref="MaxValueLength"/> is kept as its SHA-256 (128 bits, base64url), so
/// a caller-chosen value costs a bounded amount of memory whatever its length; IPv6 clients are keyed by their
/// prefix (default /64), since one subscriber holds a whole /64 and could otherwise rotate addresses freely.
/// </summary>
internal sealed class RateLimitKey
{
    private enum Kind
    {
        Ip,
        Consumer,
        Route,
        Header,
        Claim,
    }

    /// <summary>Longer header or claim values are hashed (the hash is 22 characters).</summary>
    internal const int MaxValueLength = 64;

    private readonly (Kind Kind, string Name)[] _parts;
    private readonly int _ipv6Prefix;

    private RateLimitKey((Kind, string)[] parts, int ipv6Prefix)
    {
        _parts = parts;
        _ipv6Prefix = ipv6Prefix;
    }

    /// <summary>An error message for a key part that is not one of ip, consumer, route, header:NAME, claim:PATH; else null.</summary>
    public static string? ValidatePart(string part) => Parse(part) is null
        ? $"'{part}' is not a key part; use ip, consumer, route, header:NAME or claim:PATH"
        : null;

    public static RateLimitKey Compile(IReadOnlyList<string> parts, int ipv6Prefix = 64) =>
        new(parts.Select(p => Parse(p) ?? throw new InvalidOperationException($"unvalidated key part {p}")).ToArray(), ipv6Prefix);

    private static (Kind, string)? Parse(string part) => part switch
    {
        "ip" => (Kind.Ip, ""),
        "consumer" => (Kind.Consumer, ""),
        "route" => (Kind.Route, ""),
        _ when part.StartsWith("header:", StringComparison.Ordinal) && part.Length > 7 && !part.AsSpan(7).ContainsAny(" :") => (Kind.Header, part[7..]),
        _ when part.StartsWith("claim:", StringComparison.Ordinal) && part.Length > 6 && !part.AsSpan(6).Contains(' ') => (Kind.Claim, part[6..]),
        _ => null,
    };

    /// <summary>
    /// The partition of this request: for a one-part key the value itself (a string, or the client's
    /// <see cref="IPAddress"/> when falling back), so the common case allocates nothing; values of different kinds
    /// never compare equal. Several parts are joined into one string.
    /// </summary>
    public object Resolve(HttpContext context, string route)
    {
        if (_parts.Length == 1)
        {
            return ResolvePart(_parts[0], context, route);
        }

        var values = new string[_parts.Length];
        for (var i = 0; i < _parts.Length; i++)
        {
            values[i] = ResolvePart(_parts[i], context, route) switch
            {
                IPAddress address => "ip=" + address,
                var value => "v=" + value,
            };
        }

        // U+001F (unit separator) cannot appear in a header value, a route name or a claim read from JSON unescaped.
        return string.Join('\u001f', values);
    }

    private object ResolvePart((Kind Kind, string Name) part, HttpContext context, string route)
    {
        var value = part.Kind switch
        {
            Kind.Route => route,
            Kind.Consumer => (context.User as CallerPrincipal)?.Caller.Consumer,
            Kind.Header => context.Request.Headers[part.Name] is { Count: 1 } header && !string.IsNullOrEmpty(header[0]) ? header[0] : null,
            Kind.Claim => (context.User as CallerPrincipal)?.Caller.ValuesAt(part.Name) is [var first, ..] ? first : null,
            _ => null,
        };
        if (value is null)
        {
            return ClientAddress(context);
        }

        return value.Length > MaxValueLength && part.Kind is Kind.Header or Kind.Claim ? Hashed(value) : value;
    }

    /// <summary>
    /// '#' and 128 bits of SHA-256, base64url. A short value spelled like a hash shares that counter, which gives a
    /// caller nothing: the key is the caller's to choose anyway (the long value itself would reach the same counter).
    /// </summary>
    internal static string Hashed(string value)
    {
        Span<byte> hash = stackalloc byte[32];
        var bytes = System.Text.Encoding.UTF8.GetByteCount(value);
        var buffer = bytes <= 1024 ? stackalloc byte[bytes] : new byte[bytes];
        System.Text.Encoding.UTF8.GetBytes(value, buffer);
        System.Security.Cryptography.SHA256.HashData(buffer, hash);
        return "#" + System.Buffers.Text.Base64Url.EncodeToString(hash[..16]);
    }

    private IPAddress ClientAddress(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress ?? IPAddress.None;
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && _ipv6Prefix < 128 ? Prefix(address, _ipv6Prefix) : address;
    }

    /// <summary>The network of an IPv6 address: its first <paramref name="bits"/> bits, the rest zero.</summary>
    internal static IPAddress Prefix(IPAddress address, int bits)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        for (var i = 0; i < 16; i++)
        {
            var keep = Math.Clamp(bits - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }

    /// <summary>The partition as text, for a Redis key: kinds stay apart through their prefix.</summary>
    public static string ToText(object partition) => partition switch
    {
        IPAddress address => "ip=" + address,
        string s when s.Contains('\u001f', StringComparison.Ordinal) => s,
        var value => "v=" + value,
    };
}
