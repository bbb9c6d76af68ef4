using System.Globalization;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy;

/// <summary>
/// The HttpClient of each service's backend connections (YARP's forwarder client factory): connect timeout, backend
/// TLS trust and the switch-off of HttpClient's own trace propagation.
/// Puts a service's <c>timeout.connect</c> on its <see cref="SocketsHttpHandler.ConnectTimeout"/>. The value travels
/// in the cluster's metadata because YARP's <c>HttpClientConfig</c> has no such setting; and since YARP reuses a
/// cluster's client whenever that config is unchanged, reuse also requires the connect timeout to be unchanged, or
/// an edit of only the timeout would never reach the handler. A service's <c>tls.caFile</c> travels the same way
/// (as the PEM text) and sets the handler's certificate validation (Policies/BackendTls).
/// </summary>
internal sealed class BackendHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger) : ForwarderHttpClientFactory(logger)
{
    public const string MetadataKey = "gatehouse.connectTimeoutMs";

    public const string CaCertificatesKey = "gatehouse.tls.caPem";

    /// <summary>YARP's own default, kept when a service sets none.</summary>
    private static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(15);

    protected override bool CanReuseOldClient(ForwarderHttpClientContext context) =>
        base.CanReuseOldClient(context) && ConnectTimeout(context.OldMetadata) == ConnectTimeout(context.NewMetadata)
        && CaCertificates(context.OldMetadata) == CaCertificates(context.NewMetadata);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ConnectTimeout = ConnectTimeout(context.NewMetadata);

        // The trace context is sent by Observability/ObservabilityTransformProvider for every request; HttpClient's
        // propagator would overwrite it from Activity.Current, and its handler costs a check per request.
        handler.ActivityHeadersPropagator = null;

        if (CaCertificates(context.NewMetadata) is { } pem)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = new Policies.BackendTls.BackendCertificateValidator(Policies.BackendTls.BackendTlsOptions.LoadCertificates(pem)).Validate;
        }
    }

    private static string? CaCertificates(IReadOnlyDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(CaCertificatesKey, out var pem) ? pem : null;

    internal static TimeSpan ConnectTimeout(IReadOnlyDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(MetadataKey, out var text)
            && double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var ms)
            ? TimeSpan.FromMilliseconds(ms)
            : DefaultConnectTimeout;
}
