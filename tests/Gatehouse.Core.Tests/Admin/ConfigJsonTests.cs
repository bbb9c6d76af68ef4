using Gatehouse.Admin;
using Gatehouse.Configuration;
using Gatehouse.Policies.Authentication;
using Gatehouse.Redis;

namespace Gatehouse.Core.Tests.Admin;

public class ConfigJsonTests
{
    [Fact]
    public void ToRedactedJson_EveryKnownSecretField_Redacted()
    {
        // Every field of the options model that holds a secret, set by hand (some need files or servers to load from YAML).
        var options = new GatewayOptions
        {
            Listen = [new ListenOptions { Url = "https://0.0.0.0:443", Certificate = new CertificateOptions { Path = "/etc/tls/cert.pfx", Password = "pfx-password-1" } }],
            Admin = new AdminOptions { Listen = "http://0.0.0.0:9901", Token = "admin-token-2" },
            Redis = new RedisOptions { Connection = "redis.internal:6379,password=redis-password-3,ssl=true" },
            IdentityProviders = [new IdentityProviderOptions { Name = "corp", Issuer = "https://idp", Audiences = ["api"], Introspection = new IntrospectionOptions { ClientId = "gw", ClientSecret = "client-secret-4" } }],
            Consumers = [new ConsumerOptions { Name = "alice", ApiKeys = ["sha256:hash-5"] }],
            Services = [new ServiceOptions { Name = "s", Targets = [new TargetOptions { Url = "http://user:url-password-6@10.0.0.1", HealthUrl = "http://user:health-password-7@10.0.0.1/h" }] }],
            Routes = [new RouteOptions
            {
                Name = "r",
                Match = new MatchOptions { Path = "/" },
                Service = "s",
                Headers = new HeaderEditOptions { Set = [new("Authorization", "Bearer header-8"), new("Cookie", "session=cookie-9")], Add = [new("X-Api-Key", "header-key-10")] },
                ResponseHeaders = new HeaderEditOptions { Set = [new("Set-Cookie", "id=cookie-11")] },
            }],
        };

        var json = ConfigJson.ToRedactedJson(options).ToJsonString();

        for (var i = 1; i <= 11; i++)
        {
            Assert.DoesNotMatch($@"-{i}\b", json);
        }

        Assert.Contains("\"clientId\":\"gw\"", json, StringComparison.Ordinal);
        Assert.Contains("\"path\":\"/etc/tls/cert.pfx\"", json, StringComparison.Ordinal);
        Assert.Contains("redis.internal:6379,password=***,ssl=true", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("password")]
    [InlineData("clientSecret")]
    [InlineData("token")]
    [InlineData("apiKeys")]
    [InlineData("X-Api-Key")]
    [InlineData("x_auth_token")]
    [InlineData("Authorization")]
    [InlineData("privateKey")]
    [InlineData("credentials")]
    public void IsSecretName_SecretKeys_True(string name) => Assert.True(ConfigJson.IsSecretName(name));

    [Theory]
    [InlineData("apiKey")]
    [InlineData("path")]
    [InlineData("keyPath")]
    [InlineData("header")]
    [InlineData("X-Env")]
    public void IsSecretName_OrdinaryKeys_False(string name) =>
        Assert.Equal(name == "apiKey", ConfigJson.IsSecretName(name));

    [Fact]
    public void Redact_SecretNamedObject_WalkedNotDropped()
    {
        // apiKey: { header: X-Api-Key } names where keys are read, not a key: the section stays readable.
        var options = new GatewayOptions { ApiKey = new ApiKeyOptions { Header = "X-Api-Key" } };

        var json = ConfigJson.ToRedactedJson(options);

        Assert.Equal("X-Api-Key", json["apiKey"]!["header"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("127.0.0.1:6379", "127.0.0.1:6379")]
    [InlineData("h:6379,password=p,ssl=true", "h:6379,password=***,ssl=true")]
    [InlineData("Server=db;User Id=sa;Password=p;", "Server=db;User Id=***;Password=***;")]
    [InlineData("redis://user:p@h:6379/0", "redis://***@h:6379/0")]
    [InlineData("mail to a@b.example", "mail to a@b.example")]
    public void Scrub_InlineCredentials_Replaced(string text, string expected) => Assert.Equal(expected, ConfigJson.Scrub(text));

    [Fact]
    public void AdminOptions_ToString_HidesToken() =>
        Assert.DoesNotContain("secret-value", new AdminOptions { Token = "secret-value" }.ToString(), StringComparison.Ordinal);

    [Fact]
    public void TokensEqual_SameAndDifferent()
    {
        Assert.True(AdminAuth.TokensEqual("0123456789abcdef", "0123456789abcdef"));
        Assert.False(AdminAuth.TokensEqual("0123456789abcdef", "0123456789abcdeF"));
        Assert.False(AdminAuth.TokensEqual("0123456789abcde", "0123456789abcdef"));
    }

    [Theory]
    [InlineData("http://127.0.0.1:9901", true)]
    [InlineData("http://127.1.2.3:9901", true)]
    [InlineData("http://localhost:9901", true)]
    [InlineData("http://[::1]:9901", true)]
    [InlineData("http://0.0.0.0:9901", false)]
    [InlineData("http://[::]:9901", false)]
    [InlineData("http://10.0.0.5:9901", false)]
    public void IsLoopback_Addresses(string listen, bool expected) => Assert.Equal(expected, AdminAuth.IsLoopback(new Uri(listen)));
}
