using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Configuration;

namespace Gatehouse.Configuration;

/// <summary>
/// Runs YARP's own validator over a compiled snapshot before it is swapped in, so that what YARP would refuse is
/// a load error with the route's or service's line, never a half-applied config.
/// </summary>
internal static class ProxyConfigCheck
{
    private static readonly Lazy<IConfigValidator> StandaloneValidator = new(() =>
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(NullLogger<>));
        services.AddReverseProxy().AddTransforms<Proxy.GatewayTransformProvider>();

        // YARP checks that a cluster's passive policy name is registered.
        services.AddSingleton<Yarp.ReverseProxy.Health.IPassiveHealthCheckPolicy, Policies.Resilience.ConsecutiveFailuresPassivePolicy>();

        // Only the validator is used: the path-deny provider validates nothing, so it is not needed here.
        return services.BuildServiceProvider().GetRequiredService<IConfigValidator>();
    });

    public static async Task<IReadOnlyList<ConfigError>> CheckAsync(GatewaySnapshot snapshot, string file, IConfigValidator? validator = null)
    {
        validator ??= StandaloneValidator.Value;
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
