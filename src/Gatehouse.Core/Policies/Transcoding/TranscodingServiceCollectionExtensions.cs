using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Policies.Transcoding;

internal static class TranscodingServiceCollectionExtensions
{
    /// <summary>The request side of REST/JSON → gRPC transcoding (the response side is a YARP transform).</summary>
    public static IServiceCollection AddGatehouseTranscoding(this IServiceCollection services) => services
        .AddSingleton<Configuration.IGatewayOptionsValidator, GrpcOptionsValidator>()
        .AddSingleton<Configuration.IRoutePolicyCompiler, GrpcTranscodingCompiler>()
        .AddSingleton<GrpcTranscodingStage>();
}
