using System.Buffers.Binary;
using System.Text.Json;
using Gatehouse.Errors;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gatehouse.Policies.Transcoding;

/// <summary>
/// Response side of REST/JSON → gRPC transcoding: on routes with <c>transcode: grpc</c>, YARP's body copy is
/// suppressed and the gRPC answer is written as JSON instead. A unary answer becomes one JSON object (or its
/// <c>response_body</c> field); a server stream becomes a JSON array sent chunk by chunk as messages arrive. A
/// non-OK <c>grpc-status</c> becomes problem+json with the standard HTTP status and <c>grpc-message</c> as detail;
/// after the first streamed message it can only be appended as a final <c>{"error": {...}}</c> element.
/// </summary>
internal sealed class GrpcTranscodingTransformProvider : ITransformProvider
{
    private static readonly JsonEncodedText ErrorName = JsonEncodedText.Encode("error");
    private static readonly JsonEncodedText CodeName = JsonEncodedText.Encode("code");
    private static readonly JsonEncodedText MessageName = JsonEncodedText.Encode("message");
    private static readonly JsonEncodedText StatusName = JsonEncodedText.Encode("status");
    private static readonly string[] GrpcHeaders = ["grpc-status", "grpc-message", "grpc-status-details-bin", "grpc-encoding", "grpc-accept-encoding", "Trailer", "Content-Length", "Content-Type"];

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.Metadata is not RouteMetadata { Route.Transcoder: not null })
        {
            return;
        }

        context.AddResponseTransform(static async transform =>
        {
            if (transform.SuppressResponseBody || transform.ProxyResponse is not { } response
                || transform.HttpContext.Features.Get<GrpcTranscodingFeature>() is not { } call)
            {
                return;
            }

            transform.SuppressResponseBody = true;
            await WriteResponseAsync(transform.HttpContext, response, call);
        });
    }

    private static async Task WriteResponseAsync(HttpContext context, HttpResponseMessage response, GrpcTranscodingFeature call)
    {
        foreach (var header in GrpcHeaders)
        {
            context.Response.Headers.Remove(header);
        }

        // Trailers-only: the status came with the headers and there is no body.
        if (HeaderValue(response.Headers, "grpc-status") is { } early)
        {
            if (early == "0" && call.Binding.Method.IsServerStreaming)
            {
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/json; charset=utf-8";
                context.Response.ContentLength = 2;
                await context.Response.Body.WriteAsync("[]"u8.ToArray(), context.RequestAborted);
                return;
            }

            await WriteStatusAsync(context, early, HeaderValue(response.Headers, "grpc-message"));
            return;
        }

        if ((int)response.StatusCode != 200 || response.Content.Headers.ContentType?.MediaType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true)
        {
            await ProblemWriter.WriteAsync(context, GatewayProblem.BadGateway, $"The backend answered HTTP {(int)response.StatusCode} without a gRPC status.");
            return;
        }

        var transcoder = call.Transcoder;
        var options = transcoder.Descriptors.Json;
        var output = call.Binding.Method.OutputType;
        using var message = new ProtoWireWriter();
        using var json = new ProtoWireWriter();
        var stream = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        var streaming = call.Binding.Method.IsServerStreaming;
        var ndjson = streaming && WantsNdjson(context.Request);
        var started = false;
        using var writer = new Utf8JsonWriter(json);
        try
        {
            while (await ReadFrameAsync(stream, message, transcoder.MaxMessageBytes, context.RequestAborted))
            {
                json.Reset();
                if (streaming && !ndjson)
                {
                    // Written straight into the buffer: a Utf8JsonWriter would put its own separator after raw text.
                    json.GetSpan(1)[0] = started ? (byte)',' : (byte)'[';
                    json.Advance(1);
                }

                // One writer for the whole call, reset per message (it writes into the pooled buffer).
                writer.Reset(json);
                if (call.Binding.ResponseBodyField is { } field)
                {
                    ProtoJsonFormatter.WriteFieldValue(message.WrittenSpan, field, writer, options);
                }
                else
                {
                    ProtoJsonFormatter.WriteMessage(message.WrittenSpan, output, writer, options);
                }

                writer.Flush();

                if (!streaming)
                {
                    // A unary call's status is in the trailers, after the message: hold the JSON until then.
                    continue;
                }

                if (ndjson)
                {
                    json.GetSpan(1)[0] = (byte)'\n';
                    json.Advance(1);
                }

                if (!started)
                {
                    started = true;
                    context.Response.StatusCode = 200;
                    context.Response.ContentType = ndjson ? NdjsonType : "application/json; charset=utf-8";
                }

                await context.Response.Body.WriteAsync(json.WrittenMemory, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (TranscodingException e)
        {
            var logger = context.RequestServices.GetService(typeof(Microsoft.Extensions.Logging.ILogger<GrpcTranscodingTransformProvider>)) as Microsoft.Extensions.Logging.ILogger;
            if (logger is not null)
            {
                TranscodingLog.ResponseNotTranscoded(logger, context.TraceIdentifier, context.Features.Get<Pipeline.IGatewayRouteFeature>()?.Route?.Name ?? "", call.Binding.Method.FullName, e.Message);
            }

            if (started)
            {
                await WriteStreamErrorAsync(context, GrpcStatusCodes.Internal, "The gateway cannot transcode the backend's message: " + e.Message, ndjson);
                return;
            }

            await ProblemWriter.WriteAsync(context, GatewayProblem.BadGateway, "The backend's answer cannot be transcoded: " + e.Message);
            return;
        }

        var status = HeaderValue(response.TrailingHeaders, "grpc-status") ?? "2";
        var detail = HeaderValue(response.TrailingHeaders, "grpc-message");
        if (started)
        {
            if (status != "0")
            {
                await WriteStreamErrorAsync(context, ParseCode(status), detail, ndjson);
                return;
            }

            if (!ndjson)
            {
                await context.Response.Body.WriteAsync("]"u8.ToArray(), context.RequestAborted);
            }

            return;
        }

        if (status != "0")
        {
            await WriteStatusAsync(context, status, detail);
            return;
        }

        if (streaming)
        {
            json.Reset();
            if (!ndjson)
            {
                "[]"u8.CopyTo(json.GetSpan(2));
                json.Advance(2);
            }
        }
        else if (message.Length == 0 && json.Length == 0)
        {
            // No message at all: an OK unary call must carry one; treat as the empty message.
            writer.Reset(json);
            ProtoJsonFormatter.WriteMessage([], output, writer, options);
            writer.Flush();
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = ndjson ? NdjsonType : "application/json; charset=utf-8";
        context.Response.ContentLength = json.Length;
        await context.Response.Body.WriteAsync(json.WrittenMemory, context.RequestAborted);
    }

    private static async Task WriteStatusAsync(HttpContext context, string status, string? message)
    {
        var code = ParseCode(status);
        if (code == GrpcStatusCodes.Ok)
        {
            await ProblemWriter.WriteAsync(context, GatewayProblem.BadGateway, "The backend answered OK without a message.");
            return;
        }

        await ProblemWriter.WriteAsync(context, GatewayProblem.ForGrpcStatus(code), message is null ? null : GrpcStatusCodes.DecodeMessage(message));
    }

    /// <summary>The stream has started (200 sent): the error becomes the array's last element, as google.rpc.Status JSON.</summary>
    private static async Task WriteStreamErrorAsync(HttpContext context, int code, string? message, bool ndjson)
    {
        using var json = new ProtoWireWriter(256);
        if (!ndjson)
        {
            json.GetSpan(1)[0] = (byte)',';
            json.Advance(1);
        }

        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WritePropertyName(ErrorName);
            writer.WriteStartObject();
            writer.WriteNumber(CodeName, code);
            writer.WriteString(MessageName, message is null ? "" : GrpcStatusCodes.DecodeMessage(message));
            writer.WriteString(StatusName, (uint)code < (uint)GrpcStatusCodes.Names.Length ? GrpcStatusCodes.Names[code] : "UNKNOWN");
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        json.GetSpan(1)[0] = ndjson ? (byte)'\n' : (byte)']';
        json.Advance(1);

        await context.Response.Body.WriteAsync(json.WrittenMemory, context.RequestAborted);
    }

    private const string NdjsonType = "application/x-ndjson";

    /// <summary>Streams are a JSON array unless the client asks for newline-delimited JSON (one message per line).</summary>
    private static bool WantsNdjson(HttpRequest request)
    {
        foreach (var accept in request.Headers.Accept)
        {
            if (accept is not null && (accept.Contains(NdjsonType, StringComparison.OrdinalIgnoreCase) || accept.Contains("application/jsonl", StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    private static int ParseCode(string status) => int.TryParse(status, out var code) && code >= 0 ? code : GrpcStatusCodes.Unknown;

    /// <summary>Reads one length-prefixed gRPC message into <paramref name="message"/>; false at the clean end of the stream.</summary>
    private static async Task<bool> ReadFrameAsync(Stream stream, ProtoWireWriter message, int maxBytes, CancellationToken cancellation)
    {
        // The header is read into the message buffer itself (then overwritten): no per-frame allocation.
        message.Reset();
        var header = message.GetMemory(5)[..5];
        var read = await stream.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false, cancellation);
        if (read == 0)
        {
            return false;
        }

        if (read < 5)
        {
            throw new TranscodingException("the gRPC stream ends inside a message header");
        }

        if (header.Span[0] != 0)
        {
            // The gateway asks for identity (grpc-accept-encoding); a backend that compresses anyway is refused clearly.
            throw new TranscodingException("the backend sent a compressed gRPC message, which the gateway does not decompress");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header.Span[1..]);
        if (length > (uint)maxBytes)
        {
            throw new TranscodingException($"the backend's message of {length} bytes is over the {maxBytes}-byte limit");
        }

        message.Reset();
        var remaining = (int)length;
        while (remaining > 0)
        {
            var span = message.GetMemory(remaining);
            var got = await stream.ReadAsync(span[..remaining], cancellation);
            if (got == 0)
            {
                throw new TranscodingException("the gRPC stream ends inside a message");
            }

            message.Advance(got);
            remaining -= got;
        }

        return true;
    }

    private static string? HeaderValue(System.Net.Http.Headers.HttpHeaders headers, string name) =>
        headers.NonValidated.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
