using System.Security.Cryptography;
using Gatehouse.Policies.Authentication;
using Gatehouse.Policies.IpFilter;
using Gatehouse.Policies.PathFilter;
using Gatehouse.Policies.RateLimiting;
using Gatehouse.Policies.Resilience;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Gatehouse.Configuration;

/// <summary>
/// The central rules over what every config has: listeners, limits, services, routes (names, service references,
/// matching, shadowed routes, rewrites, header edits). Each policy's own rules are its <see cref="IGatewayOptionsValidator"/>.
/// </summary>
internal static class GatewayOptionsValidator
{
    private static readonly HashSet<string> KnownMethods = new(StringComparer.Ordinal)
    {
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
    };

    public static void Validate(GatewayOptions options, ConfigDiagnostics diagnostics, IEnumerable<IGatewayOptionsValidator> policies)
    {
        ValidateListeners(options, diagnostics);
        ValidateLimits(options, diagnostics);
        if (options.Redis is { } redis)
        {
            Redis.RedisOptions.Validate(redis, diagnostics);
        }

        var services = ValidateServices(options, diagnostics);
        ValidateRoutes(options, services, diagnostics);
        if (options.Observability.AccessLog is { } accessLog)
        {
            Observability.AccessLogOptions.Validate(accessLog, diagnostics);
        }

        Observability.TracingOptions.Validate(options.Observability.Tracing, diagnostics);
        foreach (var policy in policies)
        {
            policy.Validate(options, diagnostics);
        }
    }

    private static void ValidateListeners(GatewayOptions options, ConfigDiagnostics diagnostics)
    {
        if (options.Listen.Count == 0)
        {
            diagnostics.Error(options.PositionOf("listen"), "listen needs at least one address, e.g. http://0.0.0.0:8080");
        }

        foreach (var listen in options.Listen)
        {
            if (!Uri.TryCreate(listen.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "h2c") || uri.AbsolutePath != "/")
            {
                diagnostics.Error(listen.PositionOf("url"), $"listen address '{listen.Url}' must look like http://HOST:PORT, https://HOST:PORT or h2c://HOST:PORT");
                continue;
            }

            if (!IsBindableHost(uri.Host))
            {
                diagnostics.Error(listen.PositionOf("url"), $"listen address '{listen.Url}' must name an IP address (0.0.0.0, [::], 127.0.0.1) or localhost, not a host name");
            }

            if (uri.Scheme == "https" && listen.Certificate is null)
            {
                diagnostics.Error(listen.Position, $"listen address '{listen.Url}' is https and needs a certificate: {{ path: cert.pem, keyPath: key.pem }}");
            }

            if (uri.Scheme != "https" && listen.Certificate is not null)
            {
                diagnostics.Error(listen.PositionOf("certificate"), $"listen address '{listen.Url}' is not https; a certificate is only used with https");
            }

            if (uri.Scheme == "h2c" && listen.Protocols is not (null or ListenProtocols.Http2))
            {
                diagnostics.Error(listen.PositionOf("protocols"), "h2c listeners speak HTTP/2 only (cleartext HTTP/2 cannot share a port with HTTP/1.1 in Kestrel)");
            }

            if (uri.Scheme == "http" && listen.Protocols == ListenProtocols.Http1AndHttp2)
            {
                diagnostics.Error(listen.PositionOf("protocols"), "cleartext HTTP/2 needs its own listener: use h2c://HOST:PORT, or https for both HTTP/1.1 and HTTP/2");
            }

            if (listen.Certificate is { } certificate)
            {
                ValidateCertificate(certificate, diagnostics);
            }
        }

        if (options.Admin.Listen.Length > 0)
        {
            if (!Uri.TryCreate(options.Admin.Listen, UriKind.Absolute, out var admin) || admin.Scheme != "http" || admin.AbsolutePath != "/")
            {
                diagnostics.Error(options.Admin.PositionOf("listen"), $"admin.listen '{options.Admin.Listen}' must look like http://127.0.0.1:9901 (or \"\" to turn the admin listener off)");
            }
            else if (!IsBindableHost(admin.Host))
            {
                diagnostics.Error(options.Admin.PositionOf("listen"), $"admin.listen '{options.Admin.Listen}' must name an IP address or localhost, not a host name");
            }
            else if (options.Admin.Token is null && !Admin.AdminAuth.IsLoopback(admin))
            {
                diagnostics.Error(options.Admin.PositionOf("listen"), $"admin.listen '{options.Admin.Listen}' is not a loopback address: set admin.token (e.g. token: \"${{GATEHOUSE_ADMIN_TOKEN}}\") so that the admin API requires a bearer token");
            }

            if (options.Admin.Token is { Length: < Admin.AdminAuth.MinTokenLength })
            {
                diagnostics.Error(options.Admin.PositionOf("token"), $"admin.token must be at least {Admin.AdminAuth.MinTokenLength} characters (a random one: openssl rand -hex 32)");
            }

            foreach (var host in options.Admin.AllowedHosts)
            {
                if (!Admin.AdminRequestGuard.IsValidAllowedHost(host))
                {
                    diagnostics.Error(options.Admin.PositionOf("allowedHosts"), $"admin.allowedHosts entry '{host}' must be a host name or IP address, optionally with :PORT (e.g. admin.internal, localhost:8443, [::1]:9000); no scheme, path or wildcard");
                }
            }
        }
    }

    private static bool IsBindableHost(string host) =>
        host == "localhost" || System.Net.IPAddress.TryParse(host.Trim('[', ']'), out _);

    private static void ValidateCertificate(CertificateOptions certificate, ConfigDiagnostics diagnostics)
    {
        if (!File.Exists(certificate.Path))
        {
            diagnostics.Error(certificate.PositionOf("path"), $"certificate file '{certificate.Path}' does not exist");
            return;
        }

        if (certificate.KeyPath is not null && !File.Exists(certificate.KeyPath))
        {
            diagnostics.Error(certificate.PositionOf("keyPath"), $"key file '{certificate.KeyPath}' does not exist");
            return;
        }

        try
        {
            using var loaded = CertificateLoader.Load(certificate);
        }
        catch (Exception e) when (e is CryptographicException or IOException or ArgumentException or UnauthorizedAccessException)
        {
            diagnostics.Error(certificate.Position, $"certificate '{certificate.Path}' cannot be loaded: {e.Message}");
        }
    }

    private static void ValidateLimits(GatewayOptions options, ConfigDiagnostics diagnostics)
    {
        if (options.Limits.MaxUrlBytes is < 256)
        {
            diagnostics.Error(options.Limits.PositionOf("maxUrlBytes"), "limits.maxUrlBytes must be at least 256 bytes");
        }

        if (options.Limits.MaxHeaderBytes is < 1024)
        {
            diagnostics.Error(options.Limits.PositionOf("maxHeaderBytes"), "limits.maxHeaderBytes must be at least 1KB");
        }
    }

    private static HashSet<string> ValidateServices(GatewayOptions options, ConfigDiagnostics diagnostics)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var service in options.Services)
        {
            if (service.Name.Length == 0)
            {
                diagnostics.Error(service.Position, "a service needs a non-empty name");
            }

            if (!names.Add(service.Name))
            {
                diagnostics.Error(service.Position, $"service '{service.Name}' is defined twice");
            }

            if (service.Targets.Count == 0)
            {
                diagnostics.Error(service.Position, $"service '{service.Name}' needs at least one target, e.g. targets: [\"http://127.0.0.1:5001\"]");
            }

            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var target in service.Targets)
            {
                if (!IsBackendUrl(target.Url))
                {
                    diagnostics.Error(target.Position, $"target '{Redact(target.Url)}' of service '{service.Name}' must be an absolute http:// or https:// address");
                }
                else if (!seen.Add(target.Url))
                {
                    diagnostics.Error(target.Position, $"target '{Redact(target.Url)}' is listed twice in service '{service.Name}'");
                }

                if (target.HealthUrl is not null && !IsBackendUrl(target.HealthUrl))
                {
                    diagnostics.Error(target.PositionOf("healthUrl"), $"healthUrl '{Redact(target.HealthUrl)}' must be an absolute http:// or https:// address");
                }
            }

            if (service.HttpVersion is not (null or "1.1" or "2" or "auto"))
            {
                diagnostics.Error(service.PositionOf("httpVersion"), $"services.{service.Name}.httpVersion must be 1.1, 2 or auto, not '{service.HttpVersion}'");
            }

            if (service.HealthCheck is { } health)
            {
                if (health.Path is not null && !health.Path.StartsWith('/'))
                {
                    diagnostics.Error(health.PositionOf("path"), $"services.{service.Name}.healthCheck.path must start with '/'");
                }

                if (health.EjectAfterFailures is not null && !health.Passive)
                {
                    diagnostics.Error(health.PositionOf("ejectAfterFailures"), $"services.{service.Name}.healthCheck.ejectAfterFailures needs passive: true; it is a passive check");
                }

                if (health.Path is not null && health.Timeout > health.Interval)
                {
                    diagnostics.Error(health.PositionOf("timeout"), $"services.{service.Name}.healthCheck.timeout ({health.Timeout.TotalSeconds}s) must not exceed its interval ({health.Interval.TotalSeconds}s)");
                }
            }
        }

        return names;
    }

    /// <summary>Errors are logged on reload; credentials in an address (<c>http://user:secret@host</c>) must not be.</summary>
    internal static string Redact(string url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        var at = url.IndexOf('@', StringComparison.Ordinal);
        var slash = scheme < 0 ? -1 : url.IndexOf('/', scheme + 3);
        return scheme >= 0 && at > scheme && (slash < 0 || at < slash) ? url[..(scheme + 3)] + "***@" + url[(at + 1)..] : url;
    }

    private static bool IsBackendUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.Query);

    private static void ValidateRoutes(GatewayOptions options, HashSet<string> services, ConfigDiagnostics diagnostics)
    {
        var names = new Dictionary<string, RouteOptions>(StringComparer.Ordinal);
        var matchers = new List<RouteMatcher>();
        foreach (var route in options.Routes)
        {
            if (route.Name.Length == 0)
            {
                diagnostics.Error(route.PositionOf("name"), "a route needs a non-empty name");
            }

            if (!names.TryAdd(route.Name, route))
            {
                diagnostics.Error(route.PositionOf("name"), $"route name '{route.Name}' is already used at line {names[route.Name].Position.Line}");
            }

            if (!services.Contains(route.Service))
            {
                var hint = ValueParsers.Closest(route.Service, services);
                diagnostics.Error(route.PositionOf("service"), $"route '{route.Name}' refers to service '{route.Service}', which is not defined"
                    + (hint is null ? services.Count == 0 ? " (there are no services)" : $" (services: {string.Join(", ", services)})" : $"; did you mean '{hint}'?"));
            }

            var matcher = ValidateMatch(route, diagnostics);
            ValidateRewrite(route, diagnostics);
            ValidateHeaderEdits(route.Headers, $"route '{route.Name}' headers", diagnostics);
            ValidateHeaderEdits(route.ResponseHeaders, $"route '{route.Name}' responseHeaders", diagnostics);
            if (route.WebSockets && route.Match.Methods.Count > 0 && !route.Match.Methods.Contains("GET", StringComparer.OrdinalIgnoreCase))
            {
                diagnostics.Error(route.PositionOf("webSockets"), $"route '{route.Name}' allows WebSockets but not GET, the method of a WebSocket handshake");
            }

            if (matcher is null)
            {
                continue;
            }

            var shadow = matchers.FirstOrDefault(earlier => RouteMatcher.Covers(earlier, matcher));
            if (shadow is not null)
            {
                diagnostics.Error(route.Match.PositionOf("path"), $"route '{route.Name}' can never match: route '{shadow.Route.Name}' (line {shadow.Route.Position.Line}) comes first and takes every request it would match; move '{route.Name}' above it or narrow '{shadow.Route.Name}'");
            }

            matchers.Add(matcher);
        }
    }

    private static RouteMatcher? ValidateMatch(RouteOptions route, ConfigDiagnostics diagnostics)
    {
        var match = route.Match;
        var ok = true;
        foreach (var method in match.Methods)
        {
            if (!KnownMethods.Contains(method))
            {
                var hint = ValueParsers.Closest(method, KnownMethods);
                diagnostics.Error(match.PositionOf("methods"), $"route '{route.Name}': '{method}' is not an HTTP method{(hint is null ? "" : $"; did you mean '{hint}'?")} (methods are upper case)");
                ok = false;
            }
        }

        foreach (var host in match.Hosts)
        {
            if (host.Length == 0 || host.Contains('/') || host.Contains(' '))
            {
                diagnostics.Error(match.PositionOf("hosts"), $"route '{route.Name}': '{host}' is not a host name (use api.example.com, *.example.com or example.com:8080)");
                ok = false;
            }
        }

        foreach (var condition in match.Headers.Concat(match.Query))
        {
            var isQuery = match.Query.Contains(condition);
            var what = isQuery ? "query parameter" : "header";
            if (condition.Mode is ValueMatchMode.Exists or ValueMatchMode.NotExists)
            {
                if (condition.Values.Count > 0)
                {
                    diagnostics.Error(condition.Position, $"route '{route.Name}': {what} condition on '{condition.Name}' with mode {condition.Mode} takes no values");
                    ok = false;
                }
            }
            else if (condition.Values.Count == 0)
            {
                diagnostics.Error(condition.Position, $"route '{route.Name}': {what} condition on '{condition.Name}' needs at least one value");
                ok = false;
            }

            if (isQuery && condition.Mode == ValueMatchMode.NotExists)
            {
                diagnostics.Error(condition.Position, $"route '{route.Name}': query parameter conditions support exact, prefix, contains, notContains and exists (YARP has no notExists for query)");
                ok = false;
            }
        }

        if (!match.Path.StartsWith('/'))
        {
            diagnostics.Error(match.PositionOf("path"), $"route '{route.Name}': path '{match.Path}' must start with '/'");
            return null;
        }

        try
        {
            var matcher = new RouteMatcher(route);
            return ok ? matcher : null;
        }
        catch (Exception e) when (e is RoutePatternException or InvalidOperationException or ArgumentException or Microsoft.AspNetCore.Routing.RouteCreationException)
        {
            diagnostics.Error(match.PositionOf("path"), $"route '{route.Name}': path '{match.Path}' is not a valid route template: {e.Message}");
            return null;
        }
    }

    private static void ValidateRewrite(RouteOptions route, ConfigDiagnostics diagnostics)
    {
        if (route.Rewrite is not { } rewrite)
        {
            return;
        }

        if (rewrite.Path is not null && rewrite.StripPrefix is not null)
        {
            diagnostics.Error(rewrite.Position, $"route '{route.Name}': rewrite takes either 'path' or 'stripPrefix', not both");
        }

        if (rewrite.Path is null && rewrite.StripPrefix is null)
        {
            diagnostics.Error(rewrite.Position, $"route '{route.Name}': rewrite needs 'path' or 'stripPrefix'");
        }

        if (rewrite.StripPrefix is { } prefix && (!prefix.StartsWith('/') || prefix.EndsWith('/')))
        {
            diagnostics.Error(rewrite.PositionOf("stripPrefix"), $"route '{route.Name}': stripPrefix '{prefix}' must start with '/' and not end with one, e.g. /api");
        }

        if (rewrite.Path is { } path)
        {
            if (!path.StartsWith('/'))
            {
                diagnostics.Error(rewrite.PositionOf("path"), $"route '{route.Name}': rewrite path '{path}' must start with '/'");
                return;
            }

            try
            {
                var target = RoutePatternFactory.Parse(path);
                var source = RoutePatternFactory.Parse(route.Match.Path);
                foreach (var parameter in target.Parameters)
                {
                    if (source.GetParameter(parameter.Name) is null)
                    {
                        diagnostics.Error(rewrite.PositionOf("path"), $"route '{route.Name}': rewrite path uses '{{{parameter.Name}}}', which match.path '{route.Match.Path}' does not capture");
                    }
                }
            }
            catch (RoutePatternException e)
            {
                diagnostics.Error(rewrite.PositionOf("path"), $"route '{route.Name}': rewrite path '{path}' is not a valid template: {e.Message}");
            }
        }
    }

    private static void ValidateHeaderEdits(HeaderEditOptions? edits, string what, ConfigDiagnostics diagnostics)
    {
        if (edits is null)
        {
            return;
        }

        foreach (var name in edits.Set.Select(p => p.Key).Concat(edits.Add.Select(p => p.Key)).Concat(edits.Remove))
        {
            if (!ValueParsers.IsHeaderName(name))
            {
                diagnostics.Error(edits.Position, $"{what}: '{name}' is not a valid header name");
            }
        }
    }
}
