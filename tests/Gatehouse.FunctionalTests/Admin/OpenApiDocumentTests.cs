using System.Text.Json;
using Gatehouse.Admin;
using Gatehouse.FunctionalTests.Common;
using Microsoft.AspNetCore.Routing;

namespace Gatehouse.FunctionalTests.Admin;

/// <summary>The hand-written OpenAPI document and the endpoints the admin listener maps must agree.</summary>
public sealed class OpenApiDocumentTests
{
    /// <summary>
    /// Documented here, mapped by another unit onto the same listener only when it is in the build (the response
    /// cache's purge). <c>/metrics</c> (observability) is mapped with metrics on, as in these tests, so it is checked.
    /// </summary>
    private static readonly HashSet<(string Method, string Path)> MappedElsewhere = [("POST", "/cache/purge")];

    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch", "head", "options"];

    [Fact]
    public async Task Document_IsOpenApi31_AndListsExactlyTheMappedEndpoints()
    {
        await using var gateway = await TestGateway.StartAsync("""
            services: { echo: { targets: ["http://127.0.0.1:1"] } }
            routes: [{ name: echo, match: { path: "/{**rest}" }, service: echo }]
            """);
        using var document = JsonDocument.Parse(await gateway.Admin!.GetStringAsync("/openapi.json"));

        Assert.StartsWith("3.1.", document.RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var documented = Operations(document).Keys.ToHashSet();
        var mapped = MappedEndpoints(gateway).Keys.ToHashSet();

        Assert.Empty(mapped.Except(documented));
        Assert.Empty(documented.Except(mapped).Except(MappedElsewhere));
    }

    [Fact]
    public async Task Document_AnonymousEndpointsHaveNoSecurity_OthersDocument401()
    {
        await using var gateway = await TestGateway.StartAsync("""
            services: { echo: { targets: ["http://127.0.0.1:1"] } }
            routes: [{ name: echo, match: { path: "/{**rest}" }, service: echo }]
            """);
        using var document = JsonDocument.Parse(await gateway.Admin!.GetStringAsync("/openapi.json"));
        var operations = Operations(document);

        foreach (var (key, anonymous) in MappedEndpoints(gateway))
        {
            var operation = operations[key];
            if (anonymous)
            {
                Assert.True(operation.TryGetProperty("security", out var security) && security.GetArrayLength() == 0, $"{key} needs no token: its operation must say security: []");
            }
            else
            {
                Assert.True(operation.GetProperty("responses").TryGetProperty("401", out _), $"{key} needs the token: its operation must document 401");
            }
        }
    }

    private static Dictionary<(string Method, string Path), JsonElement> Operations(JsonDocument document)
    {
        var operations = new Dictionary<(string, string), JsonElement>();
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => Methods.Contains(o.Name)))
            {
                Assert.True(operation.Value.TryGetProperty("responses", out _), $"{operation.Name} {path.Name} has no responses");
                operations[(operation.Name.ToUpperInvariant(), path.Name)] = operation.Value;
            }
        }

        return operations;
    }

    /// <summary>(method, path) of every endpoint of the admin application, and whether it needs no token.</summary>
    private static Dictionary<(string Method, string Path), bool> MappedEndpoints(TestGateway gateway)
    {
        var endpoints = ((IEndpointRouteBuilder)gateway.Host.AdminApp!).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>().ToList();
        Assert.NotEmpty(endpoints);
        var result = new Dictionary<(string, string), bool>();
        foreach (var endpoint in endpoints)
        {
            var anonymous = endpoint.Metadata.GetMetadata<AnonymousAdminEndpoint>() is not null;
            var path = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                result[(method, path)] = anonymous;
            }
        }

        return result;
    }
}
