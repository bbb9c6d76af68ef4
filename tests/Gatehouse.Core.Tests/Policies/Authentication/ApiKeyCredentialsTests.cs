using System.Security.Cryptography;
using System.Text;
using Gatehouse.Configuration;
using Gatehouse.Policies.Authentication;

namespace Gatehouse.Core.Tests.Policies.Authentication;

public class ApiKeyCredentialsTests
{
    internal static string Hash(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    [Fact]
    public void FindConsumer_KnownKey_ReturnsOwner_UnknownNull()
    {
        var credentials = new ApiKeyCredentials([
            new ConsumerOptions { Name = "mobile", ApiKeys = [Hash("k1"), Hash("k2").ToUpperInvariant().Replace("SHA256:", "sha256:", StringComparison.Ordinal)] },
            new ConsumerOptions { Name = "web", ApiKeys = [Hash("k3")] },
        ]);

        Assert.Equal("mobile", credentials.FindConsumer("k1"));
        Assert.Equal("mobile", credentials.FindConsumer("k2"));
        Assert.Equal("web", credentials.FindConsumer("k3"));
        Assert.Null(credentials.FindConsumer("k4"));
        Assert.Null(credentials.FindConsumer(""));
        Assert.Null(credentials.FindConsumer(new string('x', 10_000)));
    }

    [Theory]
    [InlineData("sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", true)]
    [InlineData("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", false)]
    [InlineData("sha256:9f86d0", false)]
    [InlineData("sha256:zz86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", false)]
    [InlineData("my-plain-key", false)]
    public void Validate_StoredKeyFormat(string entry, bool valid) => Assert.Equal(valid, ApiKeyCredentials.Validate(entry) is null);

    public static TheoryData<string, string> InvalidIdentityConfigs => new()
    {
        { "consumers:\n  app: { apiKeys: [\"plain-secret-key\"] }\nservices: {}\nroutes: []", "keys are never stored in clear" },
        { $"consumers:\n  a: {{ apiKeys: [\"{Hash("k")}\"] }}\n  b: {{ apiKeys: [\"{Hash("k")}\"] }}\nservices: {{}}\nroutes: []", "already given to consumer 'a'" },
        { "auth: { providers: [corp] }\nservices: {}\nroutes: []", "unknown provider 'corp'" },
        { "auth: everyone\nservices: {}\nroutes: []", "must be 'anonymous' or a mapping" },
        { "services:\n  s: { targets: [\"http://127.0.0.1:1\"] }\nroutes:\n  - { name: r, match: { path: /x }, service: s, forwardClaims: { consumer: \"Bad Header\" } }", "not a valid header name" },
    };

    [Theory]
    [MemberData(nameof(InvalidIdentityConfigs))]
    public void Load_InvalidIdentityConfig_Refused(string yaml, string fragment)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(yaml, "t.yaml", _ => null));
        Assert.Contains(e.Errors, x => x.Message.Contains(fragment, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_ErrorForPlainKey_DoesNotEchoTheWholeKey()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load("consumers:\n  app: { apiKeys: [\"super-secret-api-key-123\"] }\nservices: {}\nroutes: []", "t.yaml", _ => null));
        Assert.DoesNotContain(e.Errors, x => x.Message.Contains("super-secret-api-key-123", StringComparison.Ordinal));
    }
}
