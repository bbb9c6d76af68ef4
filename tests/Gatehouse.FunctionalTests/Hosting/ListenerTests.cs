using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.FunctionalTests.Common;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gatehouse.FunctionalTests.Hosting;

public class ListenerTests
{
    [Fact]
    public async Task H2cListener_ServesHttp2PriorKnowledge_ToHttp2Backend()
    {
        await using var backend = await TestBackend.StartAsync(
            app => app.Map("/{**p}", context => context.Response.WriteAsync(context.Request.Protocol)), HttpProtocols.Http2);
        await using var gateway = await TestGateway.StartAsync($$"""
            listen: ["h2c://127.0.0.1:0"]
            services:
              s: { targets: ["{{backend.Url}}"], httpVersion: "2" }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);
        using var client = TestGateway.NewClient(gateway.Url, HttpVersion.Version20);

        using var response = await client.GetAsync("/x");

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("HTTP/2", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task HttpsListener_NegotiatesHttp2AndHttp11()
    {
        var directory = Directory.CreateTempSubdirectory("gatehouse-tls-").FullName;
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        var certPath = Path.Combine(directory, "cert.pem");
        var keyPath = Path.Combine(directory, "key.pem");
        await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            listen:
              - url: "https://127.0.0.1:0"
                certificate: { path: "{{certPath}}", keyPath: "{{keyPath}}" }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);

        foreach (var version in new[] { HttpVersion.Version20, HttpVersion.Version11 })
        {
            using var handler = new SocketsHttpHandler { UseProxy = false };
            handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString();
            using var client = new HttpClient(handler) { DefaultRequestVersion = version, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

            using var response = await client.GetAsync(new Uri(gateway.Url, "/secure"));

            Assert.Equal(version, response.Version);
            Assert.Equal("GET /secure", await response.Content.ReadAsStringAsync());
            Assert.Equal("https", response.Headers.GetValues("X-Echo-X-Forwarded-Proto").Single());
        }
    }
}
