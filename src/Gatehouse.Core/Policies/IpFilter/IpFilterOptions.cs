using Gatehouse.Configuration;

namespace Gatehouse.Policies.IpFilter;

/// <summary>
/// <c>ipFilter: { allow: [...], deny: [...] }</c>, globally and per route. Entries are CIDR ranges or single
/// addresses, IPv4 or IPv6. Deny wins; when an allow list exists, an address on none of its ranges is refused.
/// The address checked is the client's, as resolved through <c>trustedProxies</c>.
/// </summary>
public sealed record IpFilterOptions : ConfigSection
{
    internal static readonly string[] Keys = ["allow", "deny"];

    public IReadOnlyList<string> Allow { get; init; } = [];

    public IReadOnlyList<string> Deny { get; init; } = [];

    internal static IpFilterOptions Read(ConfigNodeReader reader) => new()
    {
        Position = reader.Position,
        KeyPositions = reader.KeyPositions,
        Allow = reader.StringList("allow") ?? [],
        Deny = reader.StringList("deny") ?? [],
    };

    /// <summary>Reports every entry that is not an address or CIDR range, at the list's position.</summary>
    internal static void Validate(IpFilterOptions options, string where, ConfigDiagnostics diagnostics)
    {
        foreach (var (key, entries) in new[] { ("allow", options.Allow), ("deny", options.Deny) })
        {
            foreach (var entry in entries)
            {
                if (!IpRanges.TryParse(entry, out _))
                {
                    diagnostics.Error(options.PositionOf(key), $"{where}.{key}: '{entry}' is not an IP address or CIDR range (e.g. 10.0.0.0/8, 2001:db8::/32, 192.0.2.7)");
                }
            }
        }

        if (options.Allow.Count == 0 && options.Deny.Count == 0)
        {
            diagnostics.Error(options.Position, $"{where} needs 'allow', 'deny' or both");
        }
    }
}
