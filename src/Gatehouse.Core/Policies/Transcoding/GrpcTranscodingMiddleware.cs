using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using Gatehouse.Errors;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Policies.Transcoding;

/// <summary>
/// Request side of REST/JSON → gRPC transcoding, in YARP's proxy pipeline (a request transform cannot replace the
/// outgoing body in YARP 2.3). It matches the request to a <c>google.api.http</c> binding, builds the gRPC message
/// from body, query and path, and rewrites the request in place: POST <c>/pkg.Service/Method</c>,
/// <c>application/grpc</c>, <c>TE: trailers</c>, one length-prefixed frame as the body. YARP then forwards it over
/// HTTP/2 with the route's load balancing, health and resilience; <see cref="GrpcTranscodingTransformProvider"/>
/// turns the answer back into JSON.
/// </summary>
internal sealed class GrpcTranscodingMiddleware(RequestDelegate next, CompiledRoute route, GrpcTranscoder transcoder, Microsoft.Extensions.Logging.ILogger logger)
{
    private const int FrameHeaderBytes = 5;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        // The path routing matched, after normalisation: the one route auth and deny lists judged (not the raw target).
        var path = request.Path.Value ?? "/";
        var segments = ArrayPool<Range>.Shared.Rent(GrpcTranscoder.MaxSegments);
        var writer = new ProtoWireWriter();
        try
        {
            var binding = transcoder.Match(request.Method, path, segments, out var segmentCount, out var pathExists);
            if (binding is null)
            {
                await (pathExists
                    ? ProblemWriter.WriteAsync(context, GatewayProblem.MethodNotAllowed, $"{request.Method} is not mapped to a gRPC method at this path.")
                    : ProblemWriter.WriteAsync(context, GatewayProblem.NoRoute, "No gRPC method is mapped to this path."));
                return;
            }

            if (PathTemplate.Refusal(path, segments, segmentCount) is { } refusal)
            {
                TranscodingLog.RequestNotMapped(logger, context.TraceIdentifier, route.Name, binding.Method.FullName, refusal);
                await ProblemWriter.WriteAsync(context, GatewayProblem.BadRequest, $"The request cannot be mapped to {binding.Method.FullName}: {refusal}.");
                return;
            }

            var body = await ReadBodyAsync(context, route.MaxBodyBytes);
            if (body is null)
            {
                return;
            }

            writer.Reset(FrameHeaderBytes);
            try
            {
                GrpcTranscoder.WriteRequest(binding, body.Value.Span.Span, path, segments, segmentCount, request.Query, writer, transcoder.RequestJson);
            }
            catch (Exception e) when (e is TranscodingException or JsonException or InvalidOperationException or FormatException)
            {
                TranscodingLog.RequestNotMapped(logger, context.TraceIdentifier, route.Name, binding.Method.FullName, e.Message);
                await ProblemWriter.WriteAsync(context, GatewayProblem.BadRequest, $"The request cannot be mapped to {binding.Method.FullName}: {e.Message}");
                return;
            }
            finally
            {
                if (body.Value.Pooled is { } pooled)
                {
                    ArrayPool<byte>.Shared.Return(pooled);
                }
            }

            var frame = writer.Front(FrameHeaderBytes);
            frame[0] = 0;   // not compressed
            BinaryPrimitives.WriteUInt32BigEndian(frame[1..], (uint)(writer.Length - FrameHeaderBytes));

            context.Features.Set(new GrpcTranscodingFeature(binding, transcoder));
            context.Features.Set<IHttpRequestBodyDetectionFeature>(RequestHasBody.Instance);
            request.Method = HttpMethods.Post;
            request.Path = binding.GrpcPath;
            request.QueryString = QueryString.Empty;
            request.ContentType = "application/grpc";
            request.ContentLength = writer.Length;
            request.Headers.TE = "trailers";
            request.Headers.Remove("Accept-Encoding");
            request.Headers["grpc-accept-encoding"] = "identity";
            if (transcoder.GrpcTimeout is { } timeout)
            {
                request.Headers["grpc-timeout"] = timeout;
            }

            // One stream over the pooled frame, read by the forwarder; the buffer goes back once the exchange is over.
            request.Body = new MemoryStream(writer.GetBufferUnsafe(), 0, writer.Length, writable: false);
            await next(context);
        }
        finally
        {
            writer.Dispose();
            ArrayPool<Range>.Shared.Return(segments);
        }
    }

    private readonly record struct Body(ReadOnlyMemory<byte> Span, byte[]? Pooled);

    /// <summary>The whole JSON body in a pooled buffer, within the route's body limit (413 beyond it).</summary>
    private static async Task<Body?> ReadBodyAsync(HttpContext context, long maxBodyBytes)
    {
        var request = context.Request;
        if (request.ContentLength is 0 || (request.ContentLength is null && !context.Features.Get<IHttpRequestBodyDetectionFeature>()!.CanHaveBody))
        {
            return new Body(ReadOnlyMemory<byte>.Empty, null);
        }

        var limit = (int)Math.Min(maxBodyBytes, int.MaxValue - 64);
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(request.ContentLength ?? 4096, limit) + 1);
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    await ProblemWriter.WriteAsync(context, GatewayProblem.BodyTooLarge, $"The request body is larger than {maxBodyBytes} bytes.");
                    return null;
                }

                var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                buffer.AsSpan(0, length).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = bigger;
            }

            var read = await request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted);
            if (read == 0)
            {
                break;
            }

            length += read;
            if (length > limit)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                await ProblemWriter.WriteAsync(context, GatewayProblem.BodyTooLarge, $"The request body is larger than {maxBodyBytes} bytes.");
                return null;
            }
        }

        return new Body(buffer.AsMemory(0, length), buffer);
    }

    /// <summary>A GET turned into a gRPC POST now has a body; Kestrel's own feature would tell YARP it has none.</summary>
    private sealed class RequestHasBody : IHttpRequestBodyDetectionFeature
    {
        public static readonly RequestHasBody Instance = new();

        public bool CanHaveBody => true;
    }
}

/// <summary>Per-request state of a transcoded call: which method was called, for the response side.</summary>
internal sealed record GrpcTranscodingFeature(HttpBinding Binding, GrpcTranscoder Transcoder);
