using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Authentication;

/// <summary>Opaque tokens judged by RFC 7662 introspection at the real test identity provider.</summary>
public class IntrospectionTests
{
    private static string Config(TestBackend backend, TestIdentityProvider idp, string secret = "gateway-secret", bool introspection = true) => $$"""
        identityProviders:
          corp:
            issuer: "{{idp.Issuer}}"
            audiences: ["urn:gateway", "urn:opaque"]
            {{(introspection ? $"introspection: {{ clientId: gateway, clientSecret: \"{secret}\" }}" : "")}}
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          - name: orders
            match: { path: "/{**rest}" }
            service: s
            auth: { providers: [corp], scopes: [orders.read] }
            forwardClaims: { client_id: X-Client }
        """;

    private static async Task<HttpResponseMessage> GetAsync(TestGateway gateway, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/orders");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await gateway.Client.SendAsync(request);
    }

    private static async Task<string> ProblemTypeAsync(HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("type").GetString()!;
    }

    [Fact]
    public async Task OpaqueToken_Active_Forwarded()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, idp));
        var token = await idp.GetTokenAsync("orders.read", resource: "urn:opaque");
        Assert.DoesNotContain('.', token);

        using var response = await GetAsync(gateway, token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("app", response.Headers.GetValues("X-Echo-X-Client").Single());
    }

    [Fact]
    public async Task OpaqueToken_Revoked_401()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, idp));
        var token = await idp.GetTokenAsync("orders.read", resource: "urn:opaque");
        await idp.RevokeAsync(token);

        using var response = await GetAsync(gateway, token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(0, backend.Requests);
    }

    [Fact]
    public async Task OpaqueToken_WithoutIntrospectionConfigured_401()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, idp, introspection: false));
        var token = await idp.GetTokenAsync("orders.read", resource: "urn:opaque");

        using var response = await GetAsync(gateway, token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("idp-down")]
    [InlineData("wrong-gateway-secret")]
    public async Task IntrospectionUnavailable_503_FailsClosed(string fault)
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, idp, secret: fault == "wrong-gateway-secret" ? "nope" : "gateway-secret"));
        var token = await idp.GetTokenAsync("orders.read", resource: "urn:opaque");
        if (fault == "idp-down")
        {
            await idp.StopAsync();
        }

        using var response = await GetAsync(gateway, token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("https://gatehouse.dev/problems/identity-provider-unavailable", await ProblemTypeAsync(response));
        Assert.Equal(0, backend.Requests);
    }
}
