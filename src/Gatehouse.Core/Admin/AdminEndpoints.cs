using System.Buffers;
using System.Text.Json;
using Gatehouse.Errors;
using Gatehouse.Hosting;
using Gatehouse.Policies.Resilience;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;

namespace Gatehouse.Admin;

/// <summary>
/// The admin listener's endpoints, described for clients in <c>Admin/openapi.json</c> (served at
/// <c>/openapi.json</c>; a test keeps the two in step). Every endpoint needs the bearer token when
/// <c>admin.token</c> is set (<see cref="AdminAuth"/>), except the probes and the dashboard page.
/// </summary>
internal static class AdminEndpoints
{
    public static void Map(IEndpointRouteBuilder admin, GatewayHost host)
    {
        // RequestDelegate overloads: no reflection-based delegate binding, so the admin API stays Native-AOT safe.
        admin.MapGet("/healthz", context => context.Response.WriteAsync("ok\n")).WithMetadata(AdminAuth.Anonymous);
        admin.MapGet("/readyz", context =>
        {
            context.Response.StatusCode = host.IsReady ? 200 : 503;
            return context.Response.WriteAsync(host.IsReady ? "ready\n" : "starting\n");
        }).WithMetadata(AdminAuth.Anonymous);

        admin.MapGet("/config/status", context => WriteJsonAsync(context, json => AdminJson.WriteStatus(json, host.Status)));
        admin.MapGet("/config", context => WriteJsonAsync(context, json => ConfigJson.ToRedactedJson(host.State.Current.Options).WriteTo(json)));
        admin.MapPost("/reload", async context =>
        {
            var status = await host.ReloadAsync("admin API");
            await WriteJsonAsync(context, json => AdminJson.WriteStatus(json, status), status.LastAttemptSucceeded ? 200 : 422);
        });

        admin.MapGet("/routes", context => WriteJsonAsync(context, json => AdminJson.WriteRoutes(json, host.State.Current.Options)));

        var breakers = new CircuitBreakerStates(host.State);
        var proxyState = host.ProxyServices.GetRequiredService<IProxyStateLookup>();
        admin.MapGet("/services", context => WriteJsonAsync(context, json => AdminJson.WriteServices(json, host.State.Current.Options, proxyState, breakers)));
        admin.MapGet("/circuits", context => WriteJsonAsync(context, json => AdminJson.WriteBreakers(json, breakers)));

        // The first name of /circuits, kept for scripts written against it.
        admin.MapGet("/services/breakers", context => WriteJsonAsync(context, json => AdminJson.WriteBreakers(json, breakers)));

        admin.MapGet("/explain", context => ExplainAsync(context, host));

        admin.MapGet("/openapi.json", context => WriteResourceAsync(context, AdminResources.OpenApi, "application/json"));
        admin.MapGet("/", context =>
        {
            context.Response.Headers.ContentSecurityPolicy = AdminResources.DashboardPolicy;
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return WriteResourceAsync(context, AdminResources.Dashboard, "text/html; charset=utf-8");
        }).WithMetadata(AdminAuth.Anonymous);

        Policies.Caching.CacheAdminEndpoints.Map(admin, host.ProxyServices.GetRequiredService<Policies.Caching.ResponseCache>());
    }

    /// <summary><c>GET /explain?method=GET&amp;url=http://host/path&amp;header=Name:value</c>: the foundation's explain, as JSON.</summary>
    private static Task ExplainAsync(HttpContext context, GatewayHost host)
    {
        var query = context.Request.Query;
        var method = query["method"].ToString() is { Length: > 0 } m ? m.ToUpperInvariant() : "GET";
        if (!Uri.TryCreate(query["url"].ToString(), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            return ProblemWriter.WriteAsync(context, GatewayProblem.BadRequest, "'url' must be an absolute http(s) URL, e.g. url=http://api.example.com/users/1");
        }

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var header in query["header"])
        {
            var colon = header?.IndexOf(':', StringComparison.Ordinal) ?? -1;
            if (colon <= 0)
            {
                return ProblemWriter.WriteAsync(context, GatewayProblem.BadRequest, $"header '{header}' must look like 'Name: value'");
            }

            headers.Add(new(header![..colon].Trim(), header[(colon + 1)..].Trim()));
        }

        var result = RouteExplainer.Explain(host.State.Current.Options, new ExplainRequest(method, url, headers));
        return WriteJsonAsync(context, json => AdminJson.WriteExplain(json, result));
    }

    // Admin answers are application/json for operators and the dashboard, never embedded in HTML: readable '<' and "'".
    private static readonly JsonWriterOptions JsonOptions = new() { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write, int status = 200)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            write(json);
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        return context.Response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }

    private static Task WriteResourceAsync(HttpContext context, ReadOnlyMemory<byte> body, string contentType)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body).AsTask();
    }
}

/// <summary>The files embedded in the assembly for the admin listener, read once.</summary>
internal static class AdminResources
{
    /// <summary>
    /// Hand-written OpenAPI 3.1 document. Microsoft.AspNetCore.OpenApi builds one from minimal-API metadata
    /// (delegate binding and reflection), which the RequestDelegate endpoints here do not have and Native AOT
    /// would not keep; a static file is exact, AOT-safe, and a test checks that it lists every endpoint.
    /// </summary>
    public static readonly ReadOnlyMemory<byte> OpenApi = Read("Gatehouse.Admin.openapi.json");

    /// <summary>The dashboard: one HTML page with its script and styles inline, nothing fetched from elsewhere.</summary>
    public static readonly ReadOnlyMemory<byte> Dashboard = Read("Gatehouse.Admin.dashboard.html");

    /// <summary>
    /// The page may run only its own inline script and styles (by hash) and talk only to this listener; it may not
    /// be framed. Whatever ends up in a route name or an error message cannot run, and nothing loads from elsewhere.
    /// </summary>
    public static readonly string DashboardPolicy = ContentSecurityPolicy(Dashboard.Span);

    internal static string ContentSecurityPolicy(ReadOnlySpan<byte> html)
    {
        var text = System.Text.Encoding.UTF8.GetString(html);
        return $"default-src 'none'; connect-src 'self'; img-src 'self' data:; script-src {Hashes(text, "script")}; style-src {Hashes(text, "style")}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    }

    private static string Hashes(string html, string element)
    {
        var hashes = new List<string>();
        for (var start = html.IndexOf($"<{element}>", StringComparison.Ordinal); start >= 0; start = html.IndexOf($"<{element}>", start, StringComparison.Ordinal))
        {
            start += element.Length + 2;
            var end = html.IndexOf($"</{element}>", start, StringComparison.Ordinal);
            var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(html[start..end]));
            hashes.Add($"'sha256-{Convert.ToBase64String(hash)}'");
        }

        return hashes.Count == 0 ? "'none'" : string.Join(' ', hashes);
    }

    private static byte[] Read(string name)
    {
        using var stream = typeof(AdminResources).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
