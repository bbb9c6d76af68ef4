using System.Globalization;
using System.Net;

namespace Gatehouse.Admin;

/// <summary>
/// What keeps a browser from using the admin listener against its operator. A token-less listener has no credential
/// a page could lack, so it must tell the operator's own requests from a page's:
/// <list type="bullet">
/// <item>DNS rebinding: a page on <c>attacker.example</c> re-points its name to 127.0.0.1 and reads the API as its
/// own origin. The browser then sends <c>Host: attacker.example:PORT</c>, so a token-less listener answers only to
/// names that are its own (<see cref="IsAllowedHost"/>).</item>
/// <item>Cross-site requests: a page may send a POST without a preflight (a "simple" request: form types, no custom
/// headers). State-changing requests are refused with a foreign <c>Origin</c> or <c>Sec-Fetch-Site: cross-site</c>
/// (<see cref="IsCrossSite"/>), and a body must be <c>application/json</c> (<see cref="IsJson"/>), a type no page
/// can send cross-origin without a preflight, which this listener never grants.</item>
/// </list>
/// Pure functions of the request's fields, tested without an <c>HttpContext</c>; <see cref="AdminAuth"/> applies them.
/// </summary>
internal static class AdminRequestGuard
{
    /// <summary>
    /// <paramref name="host"/> (the Host header) names this listener: its own address (the connection's local
    /// address), <c>localhost</c>, <c>127.0.0.1</c> or <c>[::1]</c>, with the listener's port (none only on port 80);
    /// or an <c>admin.allowedHosts</c> entry: <c>NAME</c> with the listener's port, <c>NAME:PORT</c> exactly. A
    /// rebinding page cannot send any of these: its Host is its own name.
    /// </summary>
    public static bool IsAllowedHost(ReadOnlySpan<char> host, IPAddress? localAddress, int localPort, IReadOnlyList<string> allowedHosts)
    {
        if (!TrySplit(host, out var name, out var port))
        {
            return false;
        }

        foreach (var allowed in allowedHosts)
        {
            if (TrySplit(allowed, out var allowedName, out var allowedPort) && allowedName.Equals(name, StringComparison.OrdinalIgnoreCase)
                && (allowedPort.IsEmpty ? IsPort(port, localPort) : allowedPort.SequenceEqual(port)))
            {
                return true;
            }
        }

        if (!IsPort(port, localPort))
        {
            return false;
        }

        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.SequenceEqual("127.0.0.1") || name.SequenceEqual("[::1]"))
        {
            return true;
        }

        if (localAddress is not null && IPAddress.TryParse(name.Trim("[]"), out var address) && SameAddress(address, localAddress))
        {
            return true;
        }

        return false;
    }

    /// <summary>
    /// A state-changing request that a browser sent from another site: <c>Sec-Fetch-Site: cross-site</c>, or an
    /// <c>Origin</c> that is not this very authority (<c>http(s)://</c> + the Host header; <c>null</c> included).
    /// Clients that are not browsers send neither header.
    /// </summary>
    public static bool IsCrossSite(ReadOnlySpan<char> origin, bool hasOrigin, ReadOnlySpan<char> fetchSite, ReadOnlySpan<char> host)
    {
        if (fetchSite.Equals("cross-site", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (!hasOrigin)
        {
            return false;
        }

        var authority = origin.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? origin[7..]
            : origin.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? origin[8..]
            : default;
        return authority.IsEmpty || !authority.Equals(host, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary><c>application/json</c>, with or without parameters (<c>; charset=utf-8</c>).</summary>
    public static bool IsJson(ReadOnlySpan<char> contentType)
    {
        var semicolon = contentType.IndexOf(';');
        var mediaType = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>An <c>admin.allowedHosts</c> entry: a host name or IP address (IPv6 in brackets), optionally <c>:PORT</c>.</summary>
    public static bool IsValidAllowedHost(string entry)
    {
        if (!TrySplit(entry, out var name, out var port))
        {
            return false;
        }

        if (!port.IsEmpty && !(int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is > 0 and <= 65535))
        {
            return false;
        }

        if (name[0] == '[')
        {
            return IPAddress.TryParse(name[1..^1], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        }

        return Uri.CheckHostName(name.ToString()) is UriHostNameType.Dns or UriHostNameType.IPv4;
    }

    /// <summary>Splits <c>name[:port]</c> or <c>[v6][:port]</c>; false when it is neither (empty, unclosed bracket, a stray colon).</summary>
    private static bool TrySplit(ReadOnlySpan<char> host, out ReadOnlySpan<char> name, out ReadOnlySpan<char> port)
    {
        name = default;
        port = default;
        if (host.IsEmpty)
        {
            return false;
        }

        int end;
        if (host[0] == '[')
        {
            end = host.IndexOf(']') + 1;
            if (end == 0)
            {
                return false;
            }
        }
        else
        {
            end = host.IndexOf(':');
            end = end < 0 ? host.Length : end;
        }

        name = host[..end];
        if (end == host.Length)
        {
            return name.Length > 0;
        }

        if (host[end] != ':' || end + 1 == host.Length)
        {
            return false;
        }

        port = host[(end + 1)..];
        return name.Length > 0 && port.IndexOfAnyExceptInRange('0', '9') < 0;
    }

    private static bool IsPort(ReadOnlySpan<char> port, int localPort) =>
        port.IsEmpty ? localPort == 80 : int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value == localPort;

    private static bool SameAddress(IPAddress a, IPAddress b) =>
        (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Equals(b.IsIPv4MappedToIPv6 ? b.MapToIPv4() : b);
}
