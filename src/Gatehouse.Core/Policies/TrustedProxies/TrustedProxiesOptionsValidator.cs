using Gatehouse.Configuration;
using Gatehouse.Policies.IpFilter;

namespace Gatehouse.Policies.TrustedProxies;

/// <summary><c>trustedProxies</c>: addresses and CIDR ranges that parse.</summary>
internal sealed class TrustedProxiesOptionsValidator : IGatewayOptionsValidator
{
    public void Validate(GatewayOptions options, ConfigDiagnostics diagnostics)
    {
        foreach (var proxy in options.TrustedProxies)
        {
            if (!IpRanges.TryParse(proxy, out _))
            {
                diagnostics.Error(options.PositionOf("trustedProxies"), $"trustedProxies: '{proxy}' is not an IP address or CIDR range (e.g. 10.0.0.0/8)");
            }
        }
    }
}
