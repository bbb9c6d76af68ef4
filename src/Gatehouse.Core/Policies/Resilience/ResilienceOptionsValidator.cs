using Gatehouse.Configuration;

namespace Gatehouse.Policies.Resilience;

/// <summary>Cross-field rules of the resilience keys (each service's, and each route's against its service), reported with the key's position.</summary>
internal sealed class ResilienceOptionsValidator : IGatewayOptionsValidator
{
    public void Validate(GatewayOptions options, ConfigDiagnostics diagnostics)
    {
        foreach (var service in options.Services)
        {
            ValidateService(service, diagnostics);
        }

        foreach (var route in options.Routes)
        {
            ValidateRoute(route, options.Services.FirstOrDefault(s => s.Name == route.Service), diagnostics);
        }
    }

    public static void ValidateService(ServiceOptions service, ConfigDiagnostics diagnostics)
    {
        var name = $"services.{service.Name}";
        if (service.Retry is { } retry)
        {
            if (retry.On.Count == 0 && retry.OnStatus.Count == 0)
            {
                diagnostics.Error(retry.PositionOf("on"), $"{name}.retry.on needs at least one condition: connectFailure, reset, timeout or a 5xx status");
            }

            if (service.Timeout?.Response is { } response && retry.Backoff >= response)
            {
                diagnostics.Error(retry.PositionOf("backoff"), $"{name}.retry.backoff ({retry.Backoff.TotalMilliseconds}ms) must be shorter than timeout.response ({response.TotalMilliseconds}ms), or no retry could ever run");
            }
        }

        if (service.CircuitBreaker is { } breaker && breaker.Window < TimeSpan.FromMilliseconds(100))
        {
            diagnostics.Error(breaker.PositionOf("window"), $"{name}.circuitBreaker.window must be at least 100ms");
        }

        if (service.MaxConcurrentRequests is < 1)
        {
            diagnostics.Error(service.PositionOf("maxConcurrentRequests"), $"{name}.maxConcurrentRequests must be at least 1");
        }
    }

    public static void ValidateRoute(RouteOptions route, ServiceOptions? service, ConfigDiagnostics diagnostics)
    {
        if (route.Fallback is not { } fallback)
        {
            return;
        }

        if (service is not null && service.CircuitBreaker is null)
        {
            diagnostics.Error(fallback.Position, $"route '{route.Name}' has a fallback, but service '{service.Name}' has no circuitBreaker, so it would never be used");
        }

        if (fallback.ContentType is { } type && !System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(type, out _))
        {
            diagnostics.Error(fallback.PositionOf("contentType"), $"route '{route.Name}' fallback.contentType '{type}' is not a media type, e.g. application/json");
        }
    }
}
