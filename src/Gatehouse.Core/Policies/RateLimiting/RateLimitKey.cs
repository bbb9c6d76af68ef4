using System.Net;
using Gatehouse.Policies.Authentication;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Policies.RateLimiting;

/// <summary>
/// What one counter is kept for, compiled from <c>key: consumer</c> or <c>key: [consumer, route]</c>. A consumer,
/// header or claim the request does not have falls back to the client address, which comes from the socket or a
/// configured trusted proxy, so a caller can never pick a fresh key per request by leaving the credential out.
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

    private readonly (Kind Kind, string Name)[] _parts;

    private RateLimitKey((Kind, string)[] parts) => _parts = parts;

    /// <summary>An error message for a key part that is not one of ip, consumer, route, header:NAME, claim:PATH; else null.</summary>
    public static string? ValidatePart(string part) => Parse(part) is null
        ? $"'{part}' is not a key part; use ip, consumer, route, header:NAME or claim:PATH"
        : null;

    public static RateLimitKey Compile(IReadOnlyList<string> parts) =>
        new(parts.Select(p => Parse(p) ?? throw new InvalidOperationException($"unvalidated key part {p}")).ToArray());

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

    private static object ResolvePart((Kind Kind, string Name) part, HttpContext context, string route)
    {
        var value = part.Kind switch
        {
            Kind.Route => route,
            Kind.Consumer => (context.User as CallerPrincipal)?.Caller.Consumer,
            Kind.Header => context.Request.Headers[part.Name] is { Count: 1 } header && !string.IsNullOrEmpty(header[0]) ? header[0] : null,
            Kind.Claim => (context.User as CallerPrincipal)?.Caller.ValuesAt(part.Name) is [var first, ..] ? first : null,
            _ => null,
        };
        return value ?? (object)ClientAddress(context);
    }

    private static IPAddress ClientAddress(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress ?? IPAddress.None;
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    /// <summary>The partition as text, for a Redis key: kinds stay apart through their prefix.</summary>
    public static string ToText(object partition) => partition switch
    {
        IPAddress address => "ip=" + address,
        string s when s.Contains('\u001f', StringComparison.Ordinal) => s,
        var value => "v=" + value,
    };
}
