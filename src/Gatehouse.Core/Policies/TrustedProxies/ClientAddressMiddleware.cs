using Gatehouse.Policies.IpFilter;
using System.Net;
using Gatehouse.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Policies.TrustedProxies;

/// <summary>
/// Resolves the client address when the connection comes from a configured trusted proxy: walking the configured
/// forwarding header (<c>X-Forwarded-For</c> by default, or RFC 7239 <c>Forwarded</c>) from the right, the first
/// address that is not itself a trusted proxy is the client. Only the trusted hops to its right have to be well
/// formed; if the deciding entry is not an address (garbage, <c>unknown</c>, an obfuscated node) the client is
/// unknown, never the proxy itself, and an IP filter refuses it. The result replaces
/// <see cref="ConnectionInfo.RemoteIpAddress"/>, so the IP filter, rate-limit keys, logs and the X-Forwarded-For
/// sent to the backend all see the same client. With no trusted proxies (the default) nothing a client sends is
/// believed, and this stage costs nothing.
/// Hand-written rather than ASP.NET Core's ForwardedHeadersMiddleware: that one fixes its trusted networks at
/// start (these follow reloads), does not read <c>Forwarded</c>, and trusts loopback out of the box.
/// </summary>
internal sealed class ClientAddressMiddleware(RequestDelegate next, GatewayState state)
{
    /// <summary>Hops examined from the right at most; a longer chain of trusted proxies leaves the client unknown.</summary>
    internal const int MaxHops = 32;

    public Task InvokeAsync(HttpContext context)
    {
        var snapshot = state.Current;
        var trusted = snapshot.TrustedProxies;
        if (trusted.Length > 0 && context.Connection.RemoteIpAddress is { } peer && IpRanges.Contains(trusted, peer))
        {
            var useForwarded = snapshot.Options.ForwardedHeader == ForwardedHeader.Forwarded;
            var values = context.Request.Headers[useForwarded ? "Forwarded" : "X-Forwarded-For"];
            if (values.Count > 0)
            {
                context.Connection.RemoteIpAddress = Resolve(values, trusted, useForwarded);
            }
        }

        return next(context);
    }

    /// <summary>The right-most entry that is not a trusted proxy (the left-most if all are); null when that entry is not an address.</summary>
    internal static IPAddress? Resolve(StringValues values, IPNetwork[] trusted, bool forwarded)
    {
        var entries = SplitEntries(values);
        IPAddress? leftmost = null;
        for (var i = entries.Count - 1; i >= 0 && entries.Count - i <= MaxHops; i--)
        {
            var address = forwarded ? ParseForwardedElement(entries[i]) : ParseNode(entries[i]);
            if (address is null || !IpRanges.Contains(trusted, address))
            {
                return address;
            }

            leftmost = address;
        }

        return entries.Count <= MaxHops ? leftmost : null;
    }

    /// <summary>Comma-separated entries over all header lines; commas inside quoted strings do not split.</summary>
    private static List<string> SplitEntries(StringValues values)
    {
        var entries = new List<string>();
        foreach (var value in values)
        {
            if (value is null)
            {
                continue;
            }

            var start = 0;
            var quoted = false;
            for (var i = 0; i <= value.Length; i++)
            {
                if (i < value.Length && value[i] == '"')
                {
                    quoted = !quoted;
                }
                else if (i == value.Length || (value[i] == ',' && !quoted))
                {
                    var entry = value.AsSpan(start, i - start).Trim();
                    if (entry.Length > 0)
                    {
                        entries.Add(entry.ToString());
                    }

                    start = i + 1;
                }
            }
        }

        return entries;
    }

    /// <summary>RFC 7239 element: the address in its <c>for=</c> pair; null when missing, obfuscated or <c>unknown</c>.</summary>
    private static IPAddress? ParseForwardedElement(string element)
    {
        foreach (var pair in element.Split(';', StringSplitOptions.TrimEntries))
        {
            if (pair.StartsWith("for=", StringComparison.OrdinalIgnoreCase))
            {
                return ParseNode(pair[4..].Trim('"'));
            }
        }

        return null;
    }

    /// <summary>An address with an optional port: <c>192.0.2.1</c>, <c>192.0.2.1:80</c>, <c>[2001:db8::1]:80</c>, <c>2001:db8::1</c>.</summary>
    private static IPAddress? ParseNode(string node)
    {
        if (node.StartsWith('['))
        {
            var end = node.IndexOf(']', StringComparison.Ordinal);
            return end > 0 && IPAddress.TryParse(node.AsSpan(1, end - 1), out var v6) ? IpRanges.Normalize(v6) : null;
        }

        var colon = node.IndexOf(':', StringComparison.Ordinal);
        var text = colon > 0 && node.IndexOf(':', colon + 1) < 0 ? node.AsSpan(0, colon) : node.AsSpan();
        return IPAddress.TryParse(text, out var address) ? IpRanges.Normalize(address) : null;
    }
}
