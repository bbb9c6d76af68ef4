using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Configuration;

namespace Gatehouse.Core.Tests.Policies.BackendTls;

public sealed class BackendTlsOptionsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gatehouse-tls-options-").FullName;

    private string ConfigFile => Path.Combine(_folder, "gatehouse.yaml");

    private static string Config(string tls) => $$"""
        services:
          backend:
            targets: ["https://127.0.0.1:50051"]
            {{tls}}
        routes:
          - name: all
            match: { path: "/{**rest}" }
            service: backend
        """;

    private GatewayOptions Load(string yaml) => ConfigLoader.Load(yaml, ConfigFile, _ => null);

    [Fact]
    public void Accepts_CaFileRelativeToConfigFile()
    {
        using var key = ECDsa.Create();
        using var certificate = new CertificateRequest("CN=backend-ca", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        Directory.CreateDirectory(Path.Combine(_folder, "certs"));
        File.WriteAllText(Path.Combine(_folder, "certs", "ca.pem"), certificate.ExportCertificatePem());

        var tls = Load(Config("tls: { caFile: certs/ca.pem }")).Services.Single().Tls!;

        Assert.Equal("certs/ca.pem", tls.CaFile);
        Assert.Equal(Path.Combine(_folder, "certs", "ca.pem"), tls.CaFilePath);
    }

    [Theory]
    [InlineData("tls: { caFile: missing.pem }", 4, 12, "cannot read")]
    [InlineData("tls: { caFile: empty.pem }", 4, 12, "has no PEM certificate")]
    [InlineData("tls: { caFile: garbage.pem }", 4, 12, "not a valid PEM certificate")]
    [InlineData("tls: { ca: x.pem }", 4, 12, "unknown key 'ca'")]
    public void Rejects_WithPosition(string tls, int line, int column, string reason)
    {
        File.WriteAllText(Path.Combine(_folder, "empty.pem"), "");
        File.WriteAllText(Path.Combine(_folder, "garbage.pem"), "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");

        var error = Assert.Single(Assert.Throws<ConfigException>(() => Load(Config(tls))).Errors);

        Assert.Equal(ConfigFile, error.File);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
