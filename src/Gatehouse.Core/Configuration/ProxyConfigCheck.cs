using Yarp.ReverseProxy.Configuration;

namespace Gatehouse.Configuration;

/// <summary>
/// Runs YARP's own validator over a compiled snapshot before it is swapped in, so that what YARP would refuse is
/// a load error with the route's or service's line, never a half-applied config.
/// </summary>
internal static class ProxyConfigCheck
{
    public static async Task<IReadOnlyList<ConfigError>> CheckAsync(GatewaySnapshot snapshot, string file, IConfigValidator validator)
    {
        var errors = new List<ConfigError>();
        foreach (var route in snapshot.ProxyRoutes)
        {
            var options = snapshot.Routes[route.RouteId].Options;
            foreach (var e in await validator.ValidateRouteAsync(route))
            {
                errors.Add(new ConfigError(file, options.Position.Line, options.Position.Column, $"route '{route.RouteId}': {e.Message}"));
            }
        }

        foreach (var cluster in snapshot.ProxyClusters)
        {
            var options = snapshot.Options.Services.First(s => s.Name == cluster.ClusterId);
            foreach (var e in await validator.ValidateClusterAsync(cluster))
            {
                errors.Add(new ConfigError(file, options.Position.Line, options.Position.Column, $"service '{cluster.ClusterId}': {e.Message}"));
            }
        }

        return errors;
    }
}
