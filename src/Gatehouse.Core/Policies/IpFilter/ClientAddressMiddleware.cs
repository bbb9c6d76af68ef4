using System.Net;
using Gatehouse.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Policies.IpFilter;

/// <summary>
/// Resolves the client address when the connection comes from a configured trusted proxy: walking
/// <c>X-Forwarded-For</c> (or RFC 7239 <c>Forwarded</c>) from the right, the first address that is not itself a
/// trusted proxy is the client. The result replaces <see cref="ConnectionInfo.RemoteIpAddress"/>, so the IP
/// filter, rate-limit keys, logs and the X-Forwarded-For sent to the backend all see the same client.
/// With no trusted proxies (the default) nothing a client sends is believed, and this stage costs nothing.
/// Hand-written rather than ASP.NET Core's ForwardedHeadersMiddleware: that one fixes its trusted networks at
/// start (these follow reloads), does not read <c>Forwarded</c>, and trusts loopback out of the box.
/// </summary>
internal sealed class ClientAddressMiddleware(RequestDelegate next, GatewayState state)
{
    public Task InvokeAsync(HttpContext context)
    {
        var trusted = state.Current.TrustedProxies;
        if (trusted.Length > 0 && context.Connection.RemoteIpAddress is { } peer && IpRanges.Contains(trusted, IpRanges.Normalize(peer)))
        {
            var headers = context.Request.Headers;
            var forwarded = headers["X-Forwarded-For"];
            var client = forwarded.Count > 0 ? Resolve(forwarded, trusted, ForwardedForAddresses) : Resolve(headers["Forwarded"], trusted, ForwardedAddresses);
            if (client is not null)
            {
                context.Connection.RemoteIpAddress = client;
            }
        }

        return next(context);
    }

    /// <summary>The right-most address that is not a trusted proxy; if all are trusted, the left-most; null when malformed.</summary>
    internal static IPAddress? Resolve(StringValues values, IPNetwork[] trusted, Func<StringValues, List<IPAddress>?> parse)
    {
        var chain = parse(values);
        if (chain is null || chain.Count == 0)
        {
            return null;
        }

        for (var i = chain.Count - 1; i >= 0; i--)
        {
            if (!IpRanges.Contains(trusted, chain[i]))
            {
                return chain[i];
            }
        }

        return chain[0];
    }

    /// <summary><c>X-Forwarded-For: client, proxy1, proxy2</c>; any malformed element makes the whole header untrustworthy.</summary>
    internal static List<IPAddress>? ForwardedForAddresses(StringValues values)
    {
        var result = new List<IPAddress>();
        foreach (var value in values)
        {
            foreach (var part in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!TryParseNode(part, out var address))
                {
                    return null;
                }

                result.Add(address);
            }
        }

        return result;
    }

    /// <summary>RFC 7239: <c>Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"</c>.</summary>
    internal static List<IPAddress>? ForwardedAddresses(StringValues values)
    {
        var result = new List<IPAddress>();
        foreach (var value in values)
        {
            foreach (var element in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var found = false;
                foreach (var pair in element.Split(';', StringSplitOptions.TrimEntries))
                {
                    if (!pair.StartsWith("for=", StringComparison.OrdinalIgnoreCase))
                    {
                        continue;
                    }

                    if (!TryParseNode(pair[4..].Trim('"'), out var address))
                    {
                        return null;
                    }

                    result.Add(address);
                    found = true;
                }

                if (!found)
                {
                    return null;
                }
            }
        }

        return result;
    }

    /// <summary>An address with an optional port: <c>192.0.2.1</c>, <c>192.0.2.1:80</c>, <c>[2001:db8::1]:80</c>, <c>2001:db8::1</c>.</summary>
    private static bool TryParseNode(string node, out IPAddress address)
    {
        if (node.StartsWith('['))
        {
            var end = node.IndexOf(']', StringComparison.Ordinal);
            if (end > 0 && IPAddress.TryParse(node.AsSpan(1, end - 1), out address!))
            {
                address = IpRanges.Normalize(address);
                return true;
            }

            address = IPAddress.None;
            return false;
        }

        var colon = node.IndexOf(':', StringComparison.Ordinal);
        var text = colon > 0 && node.IndexOf(':', colon + 1) < 0 ? node.AsSpan(0, colon) : node.AsSpan();
        if (IPAddress.TryParse(text, out address!))
        {
            address = IpRanges.Normalize(address);
            return true;
        }

        address = IPAddress.None;
        return false;
    }
}
