using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Policies.IpFilter;

/// <summary>
/// Parses and matches CIDR ranges with <see cref="IPNetwork"/>. Every IPv4 range is also kept in its IPv4-mapped
/// IPv6 form, so a client on a dual-stack listener (<c>::ffff:192.0.2.1</c>) matches without converting its
/// address on every request; a configured mapped range is read as the IPv4 range it stands for.
/// </summary>
internal static class IpRanges
{
    public static bool TryParse(string text, out IPNetwork network)
    {
        var trimmed = text.Trim();
        if (!trimmed.Contains('/', StringComparison.Ordinal) && IPAddress.TryParse(trimmed, out var single))
        {
            single = Normalize(single);
            network = new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        if (!IPNetwork.TryParse(trimmed, out network))
        {
            return false;
        }

        if (network.BaseAddress.IsIPv4MappedToIPv6 && network.PrefixLength >= 96)
        {
            network = new IPNetwork(network.BaseAddress.MapToIPv4(), network.PrefixLength - 96);
        }

        return true;
    }

    /// <summary>The ranges, each IPv4 one followed by its IPv4-mapped IPv6 twin.</summary>
    public static IPNetwork[] ParseAll(IEnumerable<string> entries)
    {
        var result = new List<IPNetwork>();
        foreach (var entry in entries)
        {
            var network = TryParse(entry, out var n) ? n : throw new FormatException(entry);
            result.Add(network);
            if (network.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
            {
                result.Add(new IPNetwork(network.BaseAddress.MapToIPv6(), network.PrefixLength + 96));
            }
        }

        return result.ToArray();
    }

    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    public static bool Contains(IPNetwork[] networks, IPAddress address)
    {
        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
