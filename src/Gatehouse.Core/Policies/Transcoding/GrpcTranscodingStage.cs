using Gatehouse.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Transcoding;

/// <summary>The request side of transcoding, in the proxy stages of <c>transcode: grpc</c> routes only.</summary>
internal sealed class GrpcTranscodingStage(ILogger<GrpcTranscodingMiddleware> logger) : IGatewayStage
{
    public RequestDelegate Build(StageContext context, RequestDelegate next) =>
        context.Route is { Transcoder: { } transcoder } route ? new GrpcTranscodingMiddleware(next, route, transcoder, logger).InvokeAsync : next;
}
