using System.Net;
using System.Security.Cryptography;
using Gatehouse.Core.Tests.Common;
using Gatehouse.Policies.Authentication;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Core.Tests.Policies.Authentication;

public class OidcSigningKeysTests
{
    /// <summary>Serves discovery and a JWKS with one fresh RSA key, counting JWKS fetches; can be switched off.</summary>
    private sealed class FakeIdp : HttpMessageHandler
    {
        public int JwksFetches;

        public bool Down { get; set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Down)
            {
                throw new HttpRequestException("connection refused");
            }

            if (request.RequestUri!.AbsolutePath.EndsWith("openid-configuration", StringComparison.Ordinal))
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{\"jwks_uri\":\"http://idp.test/jwks\"}") });
            }

            Interlocked.Increment(ref JwksFetches);
            using var rsa = RSA.Create(2048);
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = Guid.NewGuid().ToString() });
            var json = $"{{\"keys\":[{{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\"{jwk.Kid}\",\"n\":\"{jwk.N}\",\"e\":\"{jwk.E}\"}}]}}";
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(json) });
        }
    }

    private static (OidcSigningKeys Keys, FakeIdp Idp, ManualTime Time) Create()
    {
        var idp = new FakeIdp();
        var time = new ManualTime();
        var options = new IdentityProviderOptions { Name = "corp", Issuer = "http://idp.test", Audiences = ["a"] };
        return (new OidcSigningKeys(options, new HttpClient(idp), time, NullLogger.Instance), idp, time);
    }

    [Fact]
    public async Task UnknownKidFlood_RefetchesOncePerCooldown()
    {
        var (keys, idp, time) = Create();
        Assert.NotNull(await keys.GetAsync(CancellationToken.None));

        var refreshed = 0;
        for (var i = 0; i < 100; i++)
        {
            refreshed += await keys.RefreshForUnknownKeyAsync(CancellationToken.None) ? 1 : 0;
        }

        time.Now += TimeSpan.FromSeconds(6);
        refreshed += await keys.RefreshForUnknownKeyAsync(CancellationToken.None) ? 1 : 0;

        Assert.Equal(2, refreshed);
        Assert.Equal(3, idp.JwksFetches); // the first load, then one per cooldown window
    }

    [Fact]
    public async Task KeysAreRefetchedAfterKeyRefresh_AndKeptWhenIdpIsDown()
    {
        var (keys, idp, time) = Create();
        var first = await keys.GetAsync(CancellationToken.None);

        time.Now += TimeSpan.FromSeconds(30);
        Assert.Same(first, await keys.GetAsync(CancellationToken.None));
        time.Now += TimeSpan.FromSeconds(31);
        var second = await keys.GetAsync(CancellationToken.None);
        Assert.NotSame(first, second);

        idp.Down = true;
        time.Now += TimeSpan.FromSeconds(61);
        Assert.Same(second, await keys.GetAsync(CancellationToken.None));
        Assert.Equal(2, idp.JwksFetches);
    }
}
