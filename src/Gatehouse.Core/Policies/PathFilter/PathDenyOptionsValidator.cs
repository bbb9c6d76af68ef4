using Gatehouse.Configuration;

namespace Gatehouse.Policies.PathFilter;

/// <summary>The global and each route's <c>deny: { paths }</c>.</summary>
internal sealed class PathDenyOptionsValidator : IGatewayOptionsValidator
{
    public void Validate(GatewayOptions options, ConfigDiagnostics diagnostics)
    {
        if (options.Deny is { } deny)
        {
            PathDenyOptions.Validate(deny, "deny", diagnostics);
        }

        foreach (var route in options.Routes)
        {
            if (route.Deny is { } routeDeny)
            {
                PathDenyOptions.Validate(routeDeny, $"route '{route.Name}' deny", diagnostics);
            }
        }
    }
}
