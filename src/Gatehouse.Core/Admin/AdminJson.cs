using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Configuration;
using Gatehouse.Hosting;
using Gatehouse.Policies.Resilience;
using Gatehouse.Routing;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gatehouse.Admin;

/// <summary>The admin API's response bodies, written with <see cref="Utf8JsonWriter"/> (no reflection, AOT-safe).</summary>
internal static class AdminJson
{
    /// <summary>Route keys that are not policies: the route's identity and what it matches.</summary>
    private static readonly HashSet<string> RouteIdentityKeys = ["name", "match", "service"];

    /// <summary>Route keys shown with the service's resilience settings rather than on their own.</summary>
    private static readonly HashSet<string> RouteResilienceKeys = ["timeout", "fallback"];

    public static void WriteStatus(Utf8JsonWriter json, ConfigStatus status)
    {
        json.WriteStartObject();
        json.WriteNumber("generation", status.Generation);
        json.WriteString("hash", status.Hash);
        json.WriteString("loadedAt", status.LoadedAt);
        json.WriteString("lastAttemptAt", status.LastAttemptAt);
        json.WriteBoolean("lastAttemptSucceeded", status.LastAttemptSucceeded);
        json.WriteString("reason", status.Reason);
        json.WriteStartArray("errors");
        foreach (var error in status.Errors)
        {
            json.WriteStartObject();
            json.WriteString("file", error.File);
            json.WriteNumber("line", error.Line);
            json.WriteNumber("column", error.Column);
            json.WriteString("message", error.Message);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Every service with a circuit breaker: <c>{ "orders": { "state": "open", ... } }</c>.</summary>
    public static void WriteBreakers(Utf8JsonWriter json, CircuitBreakerStates breakers)
    {
        json.WriteStartObject();
        foreach (var (service, state, options) in breakers.All())
        {
            json.WriteStartObject(service);
            json.WriteString("state", StateName(state));
            json.WriteNumber("failureRatio", options.FailureRatio);
            json.WriteNumber("minimumRequests", options.MinimumRequests);
            json.WriteNumber("windowSeconds", options.Window.TotalSeconds);
            json.WriteNumber("breakForSeconds", options.BreakFor.TotalSeconds);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    /// <summary>
    /// Routes in match order: what each matches, its service, and its policies as configured (secrets redacted).
    /// A policy key added to <see cref="RouteOptions"/> later appears under <c>policies</c> by itself.
    /// </summary>
    public static void WriteRoutes(Utf8JsonWriter json, GatewayOptions options)
    {
        var services = options.Services.ToDictionary(s => s.Name, StringComparer.Ordinal);
        json.WriteStartArray();
        foreach (var route in options.Routes)
        {
            var node = ConfigJson.ToRedactedJson(route, ConfigJsonContext.Default.RouteOptions)!.AsObject();
            json.WriteStartObject();
            json.WriteString("name", route.Name);
            json.WriteNumber("line", route.Position.Line);
            json.WritePropertyName("match");
            node["match"]!.WriteTo(json);
            json.WriteString("service", route.Service);

            json.WriteStartObject("policies");
            var auth = route.Auth ?? options.Auth;
            json.WriteString("authFrom", route.Auth is not null ? "route" : options.Auth is not null ? "default" : "none");
            if (route.Auth is null && options.Auth is not null)
            {
                json.WritePropertyName("auth");
                ConfigJson.ToRedactedJson(options.Auth, ConfigJsonContext.Default.AuthOptions)!.WriteTo(json);
            }

            foreach (var (key, value) in node)
            {
                if (!RouteIdentityKeys.Contains(key) && !RouteResilienceKeys.Contains(key) && value is not null && !IsEmpty(value))
                {
                    json.WritePropertyName(key);
                    value.WriteTo(json);
                }
            }

            WriteResilience(json, node, services.GetValueOrDefault(route.Service));
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>The service's timeouts, retries, breaker and bulkhead, with the route's own timeout and fallback.</summary>
    private static void WriteResilience(Utf8JsonWriter json, JsonObject route, ServiceOptions? service)
    {
        var serviceNode = service is null ? null : ConfigJson.ToRedactedJson(service, ConfigJsonContext.Default.ServiceOptions)!.AsObject();
        json.WriteStartObject("resilience");
        foreach (var key in (string[])["timeout", "retry", "circuitBreaker", "maxConcurrentRequests"])
        {
            if (serviceNode?[key] is { } value)
            {
                json.WritePropertyName(key);
                value.WriteTo(json);
            }
        }

        if (route["timeout"] is { } routeTimeout)
        {
            json.WritePropertyName("routeTimeout");
            routeTimeout.WriteTo(json);
        }

        if (route["fallback"] is { } fallback)
        {
            json.WritePropertyName("fallback");
            fallback.WriteTo(json);
        }

        json.WriteEndObject();
    }

    private static bool IsEmpty(JsonNode value) =>
        value is JsonArray { Count: 0 } or JsonObject { Count: 0 } || (value is JsonValue v && v.TryGetValue<bool>(out var b) && !b);

    /// <summary>Each service in file order: its targets with their active and passive health (YARP's view), and its breaker.</summary>
    public static void WriteServices(Utf8JsonWriter json, GatewayOptions options, IProxyStateLookup proxy, CircuitBreakerStates breakers)
    {
        json.WriteStartArray();
        foreach (var service in options.Services)
        {
            json.WriteStartObject();
            json.WriteString("name", service.Name);
            json.WriteString("loadBalancing", JsonNamingPolicy.CamelCase.ConvertName(service.LoadBalancing.ToString()));
            json.WriteBoolean("activeHealthCheck", service.HealthCheck?.Path is not null);
            json.WriteBoolean("passiveHealthCheck", service.HealthCheck?.Passive ?? false);
            if (breakers.GetState(service.Name) is { } breaker)
            {
                json.WriteString("circuitBreaker", StateName(breaker));
            }
            else
            {
                json.WriteNull("circuitBreaker");
            }

            proxy.TryGetCluster(service.Name, out var cluster);
            var available = cluster?.DestinationsState?.AvailableDestinations;
            json.WriteStartArray("targets");
            foreach (var target in service.Targets)
            {
                json.WriteStartObject();
                json.WriteString("address", ConfigJson.Scrub(target.Url));
                if (cluster is not null && cluster.Destinations.TryGetValue(target.Url, out var destination))
                {
                    json.WriteString("active", HealthName(destination.Health.Active));
                    json.WriteString("passive", HealthName(destination.Health.Passive));
                    json.WriteBoolean("available", available?.Contains(destination) ?? false);
                    json.WriteNumber("inFlight", destination.ConcurrentRequestCount);
                }
                else
                {
                    // The config has just been swapped and YARP has not applied it yet.
                    json.WriteString("active", "unknown");
                    json.WriteString("passive", "unknown");
                    json.WriteBoolean("available", false);
                    json.WriteNumber("inFlight", 0);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    public static void WriteExplain(Utf8JsonWriter json, ExplainResult result)
    {
        json.WriteStartObject();
        json.WriteStartObject("request");
        json.WriteString("method", result.Request.Method);
        json.WriteString("url", ConfigJson.Scrub(result.Request.Url.ToString()));
        json.WriteStartObject("headers");
        foreach (var (name, value) in result.Request.Headers)
        {
            json.WriteString(name, ConfigJson.IsSecretName(name) ? ConfigJson.Redacted : value);
        }

        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteBoolean("matched", result.MatchedRoute is not null);
        json.WriteString("route", result.MatchedRoute);
        json.WriteString("service", result.Service);
        json.WriteNumber("status", result.Status);
        json.WriteStartArray("allow");
        foreach (var method in result.Allow)
        {
            json.WriteStringValue(method);
        }

        json.WriteEndArray();
        json.WriteStartArray("notMatched");
        foreach (var (route, line, reason) in result.NotMatched)
        {
            json.WriteStartObject();
            json.WriteString("route", route);
            json.WriteNumber("line", line);
            json.WriteString("reason", reason);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("text", result.ToString());
        json.WriteEndObject();
    }

    private static string StateName(CircuitState state) => state switch
    {
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "halfOpen",
        _ => "closed",
    };

    private static string HealthName(DestinationHealth health) => health switch
    {
        DestinationHealth.Healthy => "healthy",
        DestinationHealth.Unhealthy => "unhealthy",
        _ => "unknown",
    };
}
