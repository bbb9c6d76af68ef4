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

        public int DiscoveryAttempts;

        public bool Down { get; set; }

        /// <summary>While set, discovery requests wait for it (an IdP that accepts connections and does not answer).</summary>
        public TaskCompletionSource? Hang { get; set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("openid-configuration", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref DiscoveryAttempts);
                if (Hang is { } hang)
                {
                    await hang.Task.WaitAsync(cancellationToken);
                }
            }

            if (Down)
            {
                throw new HttpRequestException("connection refused");
            }

            if (request.RequestUri!.AbsolutePath.EndsWith("openid-configuration", StringComparison.Ordinal))
            {
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{\"jwks_uri\":\"http://idp.test/jwks\"}") };
            }

            Interlocked.Increment(ref JwksFetches);
            using var rsa = RSA.Create(2048);
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = Guid.NewGuid().ToString() });
            var json = $"{{\"keys\":[{{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\"{jwk.Kid}\",\"n\":\"{jwk.N}\",\"e\":\"{jwk.E}\"}}]}}";
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(json) };
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
        Assert.Same(first, await keys.GetAsync(CancellationToken.None)); // due: still served at once, refreshed behind
        var second = await NewKeysAsync(keys, first);
        Assert.NotSame(first, second);

        idp.Down = true;
        time.Now += TimeSpan.FromSeconds(61);
        Assert.Same(second, await keys.GetAsync(CancellationToken.None));
        Assert.Equal(2, idp.JwksFetches);
    }

    [Fact]
    public async Task DueKeys_IdpHanging_ServedAtOnce_OneFetchInFlight_ThenReplaced()
    {
        var (keys, idp, time) = Create();
        var first = await keys.GetAsync(CancellationToken.None);
        time.Now += TimeSpan.FromSeconds(61);
        idp.Hang = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var served = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => keys.GetAsync(CancellationToken.None).AsTask())).WaitAsync(TimeSpan.FromSeconds(2));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (Volatile.Read(ref idp.DiscoveryAttempts) < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10); // the background refresh reaching the hanging IdP
        }

        var more = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => keys.GetAsync(CancellationToken.None).AsTask())).WaitAsync(TimeSpan.FromSeconds(2));

        Assert.All(served.Concat(more), k => Assert.Same(first, k));
        Assert.Equal(2, Volatile.Read(ref idp.DiscoveryAttempts)); // the first load, then one refresh for all six
        idp.Hang.SetResult();
        Assert.NotSame(first, await NewKeysAsync(keys, first));
        Assert.Equal(2, Volatile.Read(ref idp.DiscoveryAttempts));
    }

    [Fact]
    public async Task FailedFetch_BacksOff_DoublingUntilItSucceeds()
    {
        var (keys, idp, time) = Create();
        idp.Down = true;

        Assert.Null(await keys.GetAsync(CancellationToken.None));
        Assert.Null(await keys.GetAsync(CancellationToken.None)); // within the 1 s back-off: no second attempt
        var afterFirst = Volatile.Read(ref idp.DiscoveryAttempts);
        time.Now += OidcSigningKeys.FirstBackoff;
        Assert.Null(await keys.GetAsync(CancellationToken.None));
        var afterSecond = Volatile.Read(ref idp.DiscoveryAttempts);
        time.Now += OidcSigningKeys.FirstBackoff;
        Assert.Null(await keys.GetAsync(CancellationToken.None)); // the back-off is now 2 s
        var stillSecond = Volatile.Read(ref idp.DiscoveryAttempts);
        idp.Down = false;
        time.Now += OidcSigningKeys.FirstBackoff;

        Assert.NotNull(await keys.GetAsync(CancellationToken.None));
        Assert.Equal([1, 2, 2, 3], [afterFirst, afterSecond, stillSecond, Volatile.Read(ref idp.DiscoveryAttempts)]);
    }

    /// <summary>Polls until the background refresh has replaced <paramref name="old"/> (real time, bounded).</summary>
    private static async Task<OidcSigningKeys.KeySet> NewKeysAsync(OidcSigningKeys keys, OidcSigningKeys.KeySet? old)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            var current = await keys.GetAsync(CancellationToken.None);
            if (current is not null && !ReferenceEquals(current, old))
            {
                return current;
            }

            Assert.True(DateTime.UtcNow < deadline, "the keys were not replaced within 5 s");
            await Task.Delay(10);
        }
    }
}
