using System.Net;

namespace Gatehouse.Policies.IpFilter;

/// <summary>The compiled allow/deny lists of one scope (global or a route).</summary>
internal sealed class IpFilterPolicy(IPNetwork[] allow, IPNetwork[] deny)
{
    public static IpFilterPolicy? Compile(IpFilterOptions? options) =>
        options is null ? null : new IpFilterPolicy(IpRanges.ParseAll(options.Allow), IpRanges.ParseAll(options.Deny));

    /// <summary>Deny wins; an allow list, when present, must contain the address. An unknown address is refused.</summary>
    public bool Allows(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        return !IpRanges.Contains(deny, address) && (allow.Length == 0 || IpRanges.Contains(allow, address));
    }
}
