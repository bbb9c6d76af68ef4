using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.FunctionalTests.Common;
using Gatehouse.FunctionalTests.Policies.Transcoding;
using Gatehouse.Tests.Bookstore;
using Grpc.Core;
using Grpc.Net.Client;

namespace Gatehouse.FunctionalTests.Policies.BackendTls;

/// <summary>
/// A gRPC backend over TLS with a self-signed certificate, trusted by the gateway only through <c>tls.caFile</c>:
/// pass-through and transcoded calls reach it; without the CA, or with a certificate for another host, they get 502.
/// </summary>
public sealed class BackendTlsTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private readonly string _folder = Directory.CreateTempSubdirectory("gatehouse-backend-tls-").FullName;

    /// <summary>A self-signed server certificate (its own trust anchor) for the given names, with a key Kestrel can use.</summary>
    private static X509Certificate2 SelfSigned(string dnsName, IPAddress? ip)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + dnsName, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(dnsName);
        if (ip is not null)
        {
            names.AddIpAddress(ip);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        // Through PKCS#12 so the private key is a persisted one, which TLS servers need on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    private string WritePem(X509Certificate2 certificate)
    {
        var path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".pem");
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }

    private static string Config(GrpcBackend backend, string? caFile) => $$"""
        listen: ["h2c://127.0.0.1:0"]
        services:
          bookstore:
            targets: ["{{backend.Url}}"]
            protocol: grpc
            grpc: { descriptors: "{{DescriptorsPath()}}" }
            {{(caFile is null ? "" : $"tls: {{ caFile: \"{caFile}\" }}")}}
        routes:
          - name: bookstore-grpc
            match: { path: "/bookstore.v1.Bookstore/{**rest}" }
            service: bookstore
          - name: bookstore-rest
            match: { path: "/v1/{**rest}" }
            service: bookstore
            transcode: grpc
        """;

    private static string DescriptorsPath()
    {
        var path = Path.Combine(Path.GetTempPath(), "gatehouse-backend-tls-bookstore.pb");
        var bytes = GrpcBackend.DescriptorSet();
        if (!File.Exists(path) || !File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
        {
            var temporary = path + "." + Guid.NewGuid().ToString("N");
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, path, overwrite: true);
        }

        return path;
    }

    private static async Task<(StatusCode Grpc, HttpStatusCode Http, string Theme, string Body)> CallBothAsync(TestGateway gateway)
    {
        using var channel = GrpcChannel.ForAddress(gateway.Url, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { UseProxy = false } });
        var client = new Bookstore.BookstoreClient(channel);
        StatusCode grpcStatus;
        var theme = "";
        try
        {
            theme = (await client.GetShelfAsync(new GetShelfRequest { Shelf = 7 }, deadline: DateTime.UtcNow + Deadline)).Theme;
            grpcStatus = StatusCode.OK;
        }
        catch (RpcException e)
        {
            grpcStatus = e.StatusCode;
        }

        using var http = TestGateway.NewClient(gateway.Url, HttpVersion.Version20);
        using var response = await http.GetAsync("/v1/shelves/8");
        return (grpcStatus, response.StatusCode, theme, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task CaFile_TrustsSelfSignedBackend_PassThroughAndTranscoded()
    {
        using var certificate = SelfSigned("localhost", IPAddress.Loopback);
        await using var backend = await GrpcBackend.StartAsync(certificate);
        await using var gateway = await TestGateway.StartAsync(Config(backend, WritePem(certificate)));

        var (grpc, rest, theme, body) = await CallBothAsync(gateway);

        Assert.StartsWith("https://127.0.0.1:", backend.Url, StringComparison.Ordinal);
        Assert.Equal(StatusCode.OK, grpc);
        Assert.Equal("theme-7", theme);
        Assert.Equal(HttpStatusCode.OK, rest);
        Assert.Equal("""{"id":"8","theme":"theme-8"}""", body);
    }

    [Fact]
    public async Task NoCaFile_SelfSignedBackendRefused_502()
    {
        using var certificate = SelfSigned("localhost", IPAddress.Loopback);
        await using var backend = await GrpcBackend.StartAsync(certificate);
        await using var gateway = await TestGateway.StartAsync(Config(backend, caFile: null));

        var (grpc, rest, _, _) = await CallBothAsync(gateway);

        Assert.Equal(StatusCode.Unavailable, grpc);
        Assert.Equal(HttpStatusCode.BadGateway, rest);
        Assert.Equal(0, backend.State.Calls);
    }

    [Fact]
    public async Task CaFile_CertificateForAnotherHost_502()
    {
        using var certificate = SelfSigned("other.example", ip: null);
        await using var backend = await GrpcBackend.StartAsync(certificate);
        await using var gateway = await TestGateway.StartAsync(Config(backend, WritePem(certificate)));

        var (grpc, rest, _, _) = await CallBothAsync(gateway);

        Assert.Equal(StatusCode.Unavailable, grpc);
        Assert.Equal(HttpStatusCode.BadGateway, rest);
        Assert.Equal(0, backend.State.Calls);
    }

    [Fact]
    public async Task CaFile_OfAnotherCertificate_502()
    {
        using var certificate = SelfSigned("localhost", IPAddress.Loopback);
        using var other = SelfSigned("localhost", IPAddress.Loopback);
        await using var backend = await GrpcBackend.StartAsync(certificate);
        await using var gateway = await TestGateway.StartAsync(Config(backend, WritePem(other)));

        var (grpc, rest, _, _) = await CallBothAsync(gateway);

        Assert.Equal(StatusCode.Unavailable, grpc);
        Assert.Equal(HttpStatusCode.BadGateway, rest);
        Assert.Equal(0, backend.State.Calls);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
