using System.Net;
using Gatehouse.Configuration;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gatehouse.Hosting;

internal static class KestrelSetup
{
    /// <summary>
    /// Kestrel's own limits are backstops set well above the configured ones: the gateway checks the configured
    /// limits itself so it can answer with problem+json and follow reloads without a restart.
    /// </summary>
    public static void Configure(KestrelServerOptions kestrel, GatewayOptions options)
    {
        var defaults = Policies.RequestLimits.RequestLimitsOptions.Defaults;
        var maxUrlBytes = options.Limits.MaxUrlBytes ?? defaults.MaxUrlBytes!.Value;
        var maxHeaderBytes = options.Limits.MaxHeaderBytes ?? defaults.MaxHeaderBytes!.Value;
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxRequestLineSize = (int)Math.Clamp(maxUrlBytes * 2 + 1024, 16 * 1024, 1024 * 1024);
        kestrel.Limits.MaxRequestHeadersTotalSize = (int)Math.Clamp(maxHeaderBytes * 2, 64 * 1024, 4 * 1024 * 1024);
        kestrel.Limits.Http2.MaxRequestHeaderFieldSize = kestrel.Limits.MaxRequestHeadersTotalSize;
        kestrel.Limits.MaxRequestBodySize = options.Limits.MaxBodyBytes ?? defaults.MaxBodyBytes!.Value;
        foreach (var listen in options.Listen)
        {
            var uri = new Uri(listen.Url);
            var protocols = listen.Protocols switch
            {
                ListenProtocols.Http1 => HttpProtocols.Http1,
                ListenProtocols.Http2 => HttpProtocols.Http2,
                ListenProtocols.Http1AndHttp2 => HttpProtocols.Http1AndHttp2,
                _ => uri.Scheme switch
                {
                    "https" => HttpProtocols.Http1AndHttp2,
                    "h2c" => HttpProtocols.Http2,
                    _ => HttpProtocols.Http1,
                },
            };
            Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> configure = options =>
            {
                options.Protocols = protocols;
                if (listen.Certificate is { } certificate)
                {
                    options.UseHttps(CertificateLoader.Load(certificate));
                }
            };

            Listen(kestrel, uri, configure);
        }
    }

    /// <summary>Binds one listener; the validator has made sure the host is an IP literal or localhost.</summary>
    public static void Listen(KestrelServerOptions kestrel, Uri uri, Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> configure)
    {
        if (uri.Host is "localhost")
        {
            kestrel.ListenLocalhost(uri.Port, configure);
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(uri.Host.Trim('[', ']')), uri.Port, configure);
        }
    }
}
