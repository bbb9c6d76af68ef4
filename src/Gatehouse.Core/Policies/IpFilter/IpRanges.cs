using System.Net;

namespace Gatehouse.Policies.IpFilter;

/// <summary>Parses and matches CIDR ranges with <see cref="IPNetwork"/>; IPv4-mapped IPv6 addresses match IPv4 ranges.</summary>
internal static class IpRanges
{
    public static bool TryParse(string text, out IPNetwork network)
    {
        var trimmed = text.Trim();
        if (!trimmed.Contains('/', StringComparison.Ordinal) && IPAddress.TryParse(trimmed, out var single))
        {
            single = Normalize(single);
            network = new IPNetwork(single, single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return IPNetwork.TryParse(trimmed, out network);
    }

    public static IPNetwork[] ParseAll(IEnumerable<string> entries) =>
        entries.Select(e => TryParse(e, out var n) ? n : throw new FormatException(e)).ToArray();

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
