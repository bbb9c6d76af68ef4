using Gatehouse.Configuration;

namespace Gatehouse.Policies.Transcoding;

/// <summary>Each service's <c>protocol: grpc</c> and <c>grpc</c> settings, and each <c>transcode: grpc</c> route against its service.</summary>
internal sealed class GrpcOptionsValidator : IGatewayOptionsValidator
{
    public void Validate(GatewayOptions options, ConfigDiagnostics diagnostics)
    {
        foreach (var service in options.Services)
        {
            GrpcServiceOptions.ValidateService(service, diagnostics);
        }

        foreach (var route in options.Routes)
        {
            GrpcServiceOptions.ValidateRoute(route, options.Services.FirstOrDefault(s => s.Name == route.Service), diagnostics);
        }
    }
}
