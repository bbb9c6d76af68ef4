using Gatehouse.Configuration;

namespace Gatehouse.Policies.Transcoding;

/// <summary>A <c>transcode: grpc</c> route's <see cref="GrpcTranscoder"/>, from its service's descriptor set.</summary>
internal sealed class GrpcTranscodingCompiler : IRoutePolicyCompiler
{
    // gRPC's usual receive limit; a backend answer larger than this is refused with 502 rather than buffered.
    private const int MaxMessageBytes = 4 * 1024 * 1024;

    public ValueTask<object?> CompileAsync(RouteCompilation compilation)
    {
        var route = compilation.Route;
        if (route.Transcode != RouteTranscoding.Grpc
            || compilation.Options.Services.FirstOrDefault(s => s.Name == route.Service) is not { Grpc.DescriptorSet: { } descriptors } service)
        {
            return ValueTask.FromResult<object?>(null);
        }

        return ValueTask.FromResult<object?>(new GrpcTranscoder(descriptors, route.Timeout?.Response ?? service.Timeout?.Response, MaxMessageBytes, service.Grpc.IgnoreUnknownFields));
    }
}
