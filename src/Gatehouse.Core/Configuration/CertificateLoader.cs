using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Configuration;

internal static class CertificateLoader
{
    /// <summary>PEM certificate + key, or a PKCS#12 file with an optional password.</summary>
    public static X509Certificate2 Load(CertificateOptions options)
    {
        if (options.KeyPath is not null)
        {
            using var pem = options.Password is null
                ? X509Certificate2.CreateFromPemFile(options.Path, options.KeyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(options.Path, options.Password, options.KeyPath);

            // Kestrel on Linux is happy with an ephemeral key; re-export so it also works where it is not.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }

        return X509CertificateLoader.LoadPkcs12FromFile(options.Path, options.Password);
    }
}
