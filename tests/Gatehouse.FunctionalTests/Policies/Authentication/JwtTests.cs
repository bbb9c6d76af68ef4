using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Authentication;

/// <summary>JWT access tokens from a real OpenID Connect provider (oidc-provider), validated through discovery and JWKS.</summary>
public class JwtTests
{
    private static string Config(TestBackend backend, TestIdentityProvider idp, string keyRefresh = "60s") => $$"""
        identityProviders:
          corp:
            issuer: "{{idp.Issuer}}"
            audiences: ["urn:gateway"]
            keyRefresh: {{keyRefresh}}
            unknownKeyCooldown: 1s
            types: [at+jwt]
        services:
          s: { targets: ["{{backend.Url}}"] }
        routes:
          - name: orders
            match: { path: "/orders/{**rest}" }
            service: s
            auth: { providers: [corp], scopes: [orders.read], stripAuthorization: true }
            forwardClaims: { sub: X-User-Id, client_id: X-Client }
          - name: admin
            match: { path: "/admin/{**rest}" }
            service: s
            auth: { providers: [corp], scopes: [orders.read, admin.write] }
          - { name: public, match: { path: "/{**rest}" }, service: s }
        """;

    private static async Task<HttpResponseMessage> GetAsync(TestGateway gateway, string path, string? token, params (string, string)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await gateway.Client.SendAsync(request);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, int status, string slug)
    {
        Assert.Equal(status, (int)response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal($"https://gatehouse.dev/problems/{slug}", body.RootElement.GetProperty("type").GetString());
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [Fact]
    public async Task ValidToken_Forwarded_WithClaimsAsHeaders_SpoofedCopiesStripped()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, idp));
        var token = await idp.GetTokenAsync("orders.read");

        using var response = await GetAsync(gateway, "/orders/1", token, ("X-User-Id", "admin"));
        using var anonymous = await GetAsync(gateway, "/public", null, ("X-User-Id", "admin"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("app", response.Headers.GetValues("X-Echo-X-User-Id").Single());
        Assert.Equal("app", response.Headers.GetValues("X-Echo-X-Client").Single());
        Assert.False(response.Headers.Contains("X-Echo-Authorization"));
        Assert.False(anonymous.Headers.Contains("X-Echo-X-User-Id"));
    }

    public static TheoryData<string> BadTokens => new() { "expired", "not-yet-valid", "wrong-issuer", "wrong-audience", "alg-none", "hs256-with-public-key", "tampered", "unknown-kid", "wrong-typ", "garbage" };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task BadToken_401InvalidToken_NothingForwarded(string kind)
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, idp));
        var valid = await idp.GetTokenAsync("orders.read");
        var claims = new Dictionary<string, object> { ["iss"] = idp.Issuer, ["aud"] = "urn:gateway", ["sub"] = "app", ["scope"] = "orders.read", ["iat"] = Now, ["exp"] = Now + 600 };
        string token;
        switch (kind)
        {
            case "expired":
                claims["exp"] = Now - 3600;
                claims["iat"] = Now - 7200;
                token = await idp.SignAsync(claims);
                break;
            case "not-yet-valid":
                claims["nbf"] = Now + 3600;
                token = await idp.SignAsync(claims);
                break;
            case "wrong-issuer":
                claims["iss"] = "http://127.0.0.1:1";
                token = await idp.SignAsync(claims);
                break;
            case "wrong-audience":
                claims["aud"] = "urn:other-api";
                token = await idp.SignAsync(claims);
                break;
            case "wrong-typ":
                token = await idp.SignAsync(claims, new { typ = "JWT" });
                break;
            case "alg-none":
                token = B64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + B64(JsonSerializer.Serialize(claims)) + ".";
                break;
            case "hs256-with-public-key":
            {
                // The classic key-confusion attack: HMAC-sign with the RSA public key as the secret.
                using var http = new HttpClient();
                var config = JsonDocument.Parse(await http.GetStringAsync(idp.Issuer + "/.well-known/openid-configuration"));
                var jwks = await http.GetStringAsync(config.RootElement.GetProperty("jwks_uri").GetString());
                var kid = JsonDocument.Parse(jwks).RootElement.GetProperty("keys")[0].GetProperty("kid").GetString();
                var signingInput = B64($"{{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"{kid}\"}}") + "." + B64(JsonSerializer.Serialize(claims));
                token = signingInput + "." + B64(HMACSHA256.HashData(Encoding.UTF8.GetBytes(jwks), Encoding.ASCII.GetBytes(signingInput)));
                break;
            }

            case "tampered":
            {
                var parts = valid.Split('.');
                var payload = JsonDocument.Parse(Convert.FromBase64String(parts[1].Replace('-', '+').Replace('_', '/').PadRight((parts[1].Length + 3) / 4 * 4, '='))).RootElement.GetRawText()
                    .Replace("\"orders.read\"", "\"orders.read admin.write\"", StringComparison.Ordinal);
                token = parts[0] + "." + B64(payload) + "." + parts[2];
                break;
            }

            case "unknown-kid":
            {
                using var rsa = RSA.Create(2048);
                var signingInput = B64("{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"not-a-key-of-the-idp\"}") + "." + B64(JsonSerializer.Serialize(claims));
                token = signingInput + "." + B64(rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
                break;
            }

            default:
                token = "not.a.token";
                break;
        }

        using var response = await GetAsync(gateway, "/orders/1", token);

        await AssertProblemAsync(response, 401, "unauthenticated");
        Assert.Equal("Bearer error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(0, backend.Requests);
    }

    public static TheoryData<string, bool> CriticalHeaders => new()
    {
        { """{"crit":["urn:example:must-understand"],"urn:example:must-understand":true}""", true },
        { """{"crit":["exp"],"exp":4102444800}""", true },
        { """{"urn:example:must-understand":true}""", false },
    };

    [Theory]
    [MemberData(nameof(CriticalHeaders))]
    public async Task CriticalHeader_401InvalidToken_SameExtensionNotCritical_200(string header, bool critical)
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, idp));
        var claims = new Dictionary<string, object> { ["iss"] = idp.Issuer, ["aud"] = "urn:gateway", ["sub"] = "app", ["scope"] = "orders.read", ["iat"] = Now, ["exp"] = Now + 600 };
        var token = await idp.SignAsync(claims, JsonSerializer.Deserialize<JsonElement>(header));

        using var response = await GetAsync(gateway, "/orders/1", token);

        if (critical)
        {
            await AssertProblemAsync(response, 401, "unauthenticated");
            Assert.Equal("Bearer error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
            Assert.Equal(0, backend.Requests);
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task NoToken_Or_TokenInQuery_401WithoutErrorCode()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, idp));
        var token = await idp.GetTokenAsync("orders.read");

        using var none = await GetAsync(gateway, "/orders/1", null);
        using var inQuery = await GetAsync(gateway, "/orders/1?access_token=" + token, null);

        await AssertProblemAsync(none, 401, "unauthenticated");
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.ToString());
        await AssertProblemAsync(inQuery, 401, "unauthenticated");
    }

    [Fact]
    public async Task MissingScope_403InsufficientScope()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, idp));
        var token = await idp.GetTokenAsync("orders.read");

        using var response = await GetAsync(gateway, "/admin/x", token);

        await AssertProblemAsync(response, 403, "insufficient-scope");
        Assert.Contains("insufficient_scope", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(0, backend.Requests);
    }

    [Fact]
    public async Task KeyRotation_NewKeyValidatesOnFirstRequest_TwoRotationsNo401_RemovedKeyStopsWithinRefresh()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, idp, keyRefresh: "2s"));
        var first = await idp.GetTokenAsync();
        using (var warm = await GetAsync(gateway, "/orders/1", first))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        await idp.RotateKeyAsync();
        var second = await idp.GetTokenAsync();
        using var afterFirstRotation = await GetAsync(gateway, "/orders/1", second);
        await Task.Delay(TimeSpan.FromSeconds(1.2)); // past the unknown-kid cooldown, well within 5 minutes
        await idp.RotateKeyAsync();
        var third = await idp.GetTokenAsync();
        using var afterSecondRotation = await GetAsync(gateway, "/orders/1", third);
        using var oldStillListed = await GetAsync(gateway, "/orders/1", first);

        Assert.Equal(HttpStatusCode.OK, afterFirstRotation.StatusCode);
        Assert.Equal(HttpStatusCode.OK, afterSecondRotation.StatusCode);
        Assert.Equal(HttpStatusCode.OK, oldStillListed.StatusCode);

        await idp.DropOldKeysAsync();
        var dropped = System.Diagnostics.Stopwatch.StartNew();
        await Wait.UntilAsync(async () =>
        {
            using var r = await GetAsync(gateway, "/orders/1", first);
            return r.StatusCode == HttpStatusCode.Unauthorized;
        }, "the removed key to stop validating", TimeSpan.FromSeconds(10));

        Assert.True(dropped.Elapsed < TimeSpan.FromSeconds(4), $"took {dropped.Elapsed}");
        using var current = await GetAsync(gateway, "/orders/1", third);
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
    }

    [Fact]
    public async Task IdpStoppedMidTest_CachedKeysKeepValidating()
    {
        var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync(Config(backend, idp, keyRefresh: "1s"));
        var token = await idp.GetTokenAsync();
        using (var before = await GetAsync(gateway, "/orders/1", token))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await idp.DisposeAsync();
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // past keyRefresh: the gateway tries, fails, keeps its keys

        using var after = await GetAsync(gateway, "/orders/1", token);

        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task IdpDownFromTheStart_503NotLetThrough_FailureCounted()
    {
        long failures = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Gatehouse.Authentication" && instrument.Name == "gatehouse.identity_provider.failures")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref failures, value));
        listener.Start();

        var idp = await TestIdentityProvider.StartAsync();
        await using var backend = await TestBackend.StartEchoAsync();
        var config = Config(backend, idp);
        var token = await idp.GetTokenAsync();
        await idp.DisposeAsync();
        await using var gateway = await TestGateway.StartAsync(config);

        using var response = await GetAsync(gateway, "/orders/1", token);

        await AssertProblemAsync(response, 503, "identity-provider-unavailable");
        Assert.Equal(0, backend.Requests);
        Assert.True(Interlocked.Read(ref failures) >= 1, "the failed key fetch was not counted");
    }
}
