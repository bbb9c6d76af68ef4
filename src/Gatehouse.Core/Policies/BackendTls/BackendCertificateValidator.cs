using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Policies.BackendTls;

/// <summary>
/// Checks a backend's TLS certificate against a service's own CA certificates (<c>tls.caFile</c>) instead of the
/// system's roots. Everything else SslStream checks still counts: the host name must match and the chain must be
/// valid (dates, signatures, server-auth usage); only "untrusted root" is decided here, against these CAs only.
/// </summary>
internal sealed class BackendCertificateValidator(X509Certificate2Collection trustedCas)
{
    /// <summary>id-kp-serverAuth, which SslStream also requires of a server certificate.</summary>
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trustedCas);
        // Private CAs rarely publish revocation lists; SslStream does not check revocation by default either.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        if (presented is not null)
        {
            // Intermediates the server sent along with its certificate.
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
