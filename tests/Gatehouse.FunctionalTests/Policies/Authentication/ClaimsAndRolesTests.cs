using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Authentication;

/// <summary>Claim and role conditions per route, on tokens signed by the real test identity provider.</summary>
public class ClaimsAndRolesTests
{
    private static string Config(TestBackend backend, TestIdentityProvider idp) => $$"""
        identityProviders:
          corp: { issuer: "{{idp.Issuer}}", audiences: ["urn:gateway"] }
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          - name: tenant
            match: { path: "/tenant/{**rest}" }
            service: s
            auth: { providers: [corp], claims: { tenant: [acme, globex], "org.region": eu } }
            forwardClaims: { tenant: X-Tenant }
          - name: keycloak-any
            match: { path: "/ops/{**rest}" }
            service: s
            auth: { providers: [corp], roles: [admin, ops], rolesClaim: realm_access.roles }
          - name: all-roles
            match: { path: "/audit/{**rest}" }
            service: s
            auth: { providers: [corp], roles: [admin, auditor], rolesMatch: all }
        """;

    private static async Task<HttpResponseMessage> GetAsync(TestGateway gateway, string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await gateway.Client.SendAsync(request);
    }

    private static Task<string> TokenAsync(TestIdentityProvider idp, Dictionary<string, object> extra)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new Dictionary<string, object> { ["iss"] = idp.Issuer, ["aud"] = "urn:gateway", ["sub"] = "u1", ["iat"] = now, ["exp"] = now + 600 };
        foreach (var (k, v) in extra)
        {
            claims[k] = v;
        }

        return idp.SignAsync(claims);
    }

    public static TheoryData<string, string, bool> Cases => new()
    {
        { "/tenant/x", """{ "tenant": "acme", "org": { "region": "eu" } }""", true },
        { "/tenant/x", """{ "tenant": "globex", "org": { "region": "eu" } }""", true },
        { "/tenant/x", """{ "tenant": "initech", "org": { "region": "eu" } }""", false },
        { "/tenant/x", """{ "tenant": "acme", "org": { "region": "us" } }""", false },
        { "/tenant/x", """{ "tenant": "acme" }""", false },
        { "/ops/x", """{ "realm_access": { "roles": ["viewer", "ops"] } }""", true },
        { "/ops/x", """{ "realm_access": { "roles": ["viewer"] } }""", false },
        { "/ops/x", """{ "roles": ["admin"] }""", false },
        { "/audit/x", """{ "roles": ["admin", "auditor"] }""", true },
        { "/audit/x", """{ "roles": ["admin"] }""", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Conditions_AllowOrDeny403(string path, string claimsJson, bool allowed)
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, idp));
        var extra = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(claimsJson)!.ToDictionary(p => p.Key, p => (object)p.Value);

        using var response = await GetAsync(gateway, path, await TokenAsync(idp, extra));

        if (allowed)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        else
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("https://gatehouse.dev/problems/access-denied", body.RootElement.GetProperty("type").GetString());
            Assert.Equal(0, backend.Requests);
        }
    }
}
