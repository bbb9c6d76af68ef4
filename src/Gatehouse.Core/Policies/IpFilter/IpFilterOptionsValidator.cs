using Gatehouse.Configuration;

namespace Gatehouse.Policies.IpFilter;

/// <summary>The global and each route's <c>ipFilter</c>: addresses and ranges that parse.</summary>
internal sealed class IpFilterOptionsValidator : IGatewayOptionsValidator
{
    public void Validate(GatewayOptions options, ConfigDiagnostics diagnostics)
    {
        if (options.IpFilter is { } ipFilter)
        {
            IpFilterOptions.Validate(ipFilter, "ipFilter", diagnostics);
        }

        foreach (var route in options.Routes)
        {
            if (route.IpFilter is { } routeIpFilter)
            {
                IpFilterOptions.Validate(routeIpFilter, $"route '{route.Name}' ipFilter", diagnostics);
            }
        }
    }
}
