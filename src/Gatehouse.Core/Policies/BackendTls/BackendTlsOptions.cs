using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Configuration;
using Gatehouse.Policies.Transcoding;

namespace Gatehouse.Policies.BackendTls;

/// <summary>
/// <c>tls: { caFile: certs/ca.pem }</c> on a service: its <c>https://</c> targets' certificates are checked against
/// these CA certificates (a private CA or a self-signed certificate) instead of the system's roots. The host name is
/// still checked; validation is never turned off.
/// </summary>
public sealed record BackendTlsOptions : ConfigSection
{
    internal static readonly string[] Keys = ["caFile"];

    /// <summary>The PEM file as written in the config (relative to the config file).</summary>
    public string? CaFile { get; init; }

    /// <summary><see cref="CaFile"/> resolved against the config file's folder; null when not set.</summary>
    public string? CaFilePath { get; init; }

    /// <summary>
    /// The PEM text as read with the config (so a reload reads the file again); it travels to the HttpClient factory
    /// in the cluster's metadata, where a changed file also means a new client.
    /// </summary>
    internal string? CaPem { get; init; }

    internal static BackendTlsOptions Read(ConfigNodeReader reader, string serviceName)
    {
        var caFile = reader.String("caFile");
        var path = caFile is null ? null : GrpcServiceOptions.ResolveAgainstConfig(caFile, reader.Context.Diagnostics.File);
        string? pem = null;
        if (path is not null)
        {
            try
            {
                pem = File.ReadAllText(path);
                if (LoadCertificates(pem).Count == 0)
                {
                    reader.Error("caFile", $"services.{serviceName}.tls.caFile: '{path}' has no PEM certificate (-----BEGIN CERTIFICATE-----)");
                    pem = null;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                reader.Error("caFile", $"services.{serviceName}.tls.caFile: cannot read '{path}' ({e.Message})");
            }
            catch (CryptographicException e)
            {
                reader.Error("caFile", $"services.{serviceName}.tls.caFile: '{path}' is not a valid PEM certificate file ({e.Message})");
                pem = null;
            }
        }

        return new BackendTlsOptions
        {
            Position = reader.Position,
            KeyPositions = reader.KeyPositions,
            CaFile = caFile,
            CaFilePath = path,
            CaPem = pem,
        };
    }

    internal static X509Certificate2Collection LoadCertificates(string pem)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(pem);
        return certificates;
    }
}
