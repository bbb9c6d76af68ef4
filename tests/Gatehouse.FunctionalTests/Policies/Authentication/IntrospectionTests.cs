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
    [InlineData("""{"exp": {now-3600}}""")]
    [InlineData("""{"exp": {now-31}}""")]
    [InlineData("""{"exp": "{now+3600}"}""")]
    [InlineData("""{"nbf": {now+3600}}""")]
    [InlineData("""{"aud": [123]}""")]
    [InlineData("""{"aud": 123}""")]
    [InlineData("""{"aud": [{"a": "urn:opaque"}, null]}""")]
    public async Task ActiveAnswer_ExpiredNotYetValidOrForeignAudience_401NotForwarded(string patch)
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, idp));
        var token = await idp.GetTokenAsync("orders.read", resource: "urn:opaque");
        await idp.PatchIntrospectionAsync(WithTimes(patch));

        using var first = await GetAsync(gateway, token);
        using var second = await GetAsync(gateway, token);

        Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        Assert.Equal("https://gatehouse.dev/problems/unauthenticated", await ProblemTypeAsync(first));
        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
        Assert.Equal(0, backend.Requests);
    }

    [Theory]
    [InlineData("""{"exp": {now-10}}""")]
    [InlineData("""{"nbf": {now+10}}""")]
    [InlineData("""{"aud": [123, "urn:opaque"]}""")]
    public async Task ActiveAnswer_WithinSkewOrOneMatchingAudience_Forwarded(string patch)
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, idp));
        var token = await idp.GetTokenAsync("orders.read", resource: "urn:opaque");
        await idp.PatchIntrospectionAsync(WithTimes(patch));

        using var response = await GetAsync(gateway, token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Replaces {now+N} and {now-N} by Unix seconds.</summary>
    private static string WithTimes(string json) => System.Text.RegularExpressions.Regex.Replace(json, @"\{now([+-]\d+)\}",
        m => (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToString(System.Globalization.CultureInfo.InvariantCulture));

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
