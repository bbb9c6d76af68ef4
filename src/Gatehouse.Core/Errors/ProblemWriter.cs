using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Errors;

/// <summary>Writes RFC 9457 <c>application/problem+json</c>. The one place that shapes gateway error bodies.</summary>
internal static class ProblemWriter
{
    private static readonly JsonEncodedText TypeName = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText TitleName = JsonEncodedText.Encode("title");
    private static readonly JsonEncodedText StatusName = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText DetailName = JsonEncodedText.Encode("detail");
    private static readonly JsonEncodedText InstanceName = JsonEncodedText.Encode("instance");
    private static readonly JsonEncodedText RequestIdName = JsonEncodedText.Encode("requestId");
    private static readonly JsonEncodedText TraceIdName = JsonEncodedText.Encode("traceId");

    public const string ContentType = "application/problem+json";

    /// <summary>
    /// Writes the problem unless the response has started (then the connection is aborted: a half-sent response
    /// must never look complete). <paramref name="closeConnection"/> for errors after which the framing of the
    /// connection cannot be trusted.
    /// </summary>
    public static Task WriteAsync(HttpContext context, GatewayProblem problem, string? detail, bool closeConnection = false, StringValues allow = default, string? retryAfter = null, StringValues wwwAuthenticate = default, IEnumerable<KeyValuePair<string, StringValues>>? headers = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        var telemetry = Observability.GatewayRequestTelemetry.Of(context);
        if (telemetry is not null)
        {
            telemetry.Error = problem;
        }

        // Whatever a backend or an earlier stage put there does not describe this response.
        response.Headers.Clear();
        response.StatusCode = problem.Status;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";
        response.Headers[RequestIds.HeaderName] = context.TraceIdentifier;
        if (allow.Count > 0)
        {
            response.Headers.Allow = allow;
        }

        if (wwwAuthenticate.Count > 0)
        {
            response.Headers.WWWAuthenticate = wwwAuthenticate;
        }

        if (retryAfter is not null)
        {
            response.Headers.RetryAfter = retryAfter;
        }

        foreach (var (name, value) in headers ?? [])
        {
            response.Headers[name] = value;
        }

        if (closeConnection)
        {
            response.Headers.Connection = "close";
        }

        // A gRPC client cannot read problem+json: it gets a trailers-only answer with the matching grpc-status, as Envoy sends.
        if (Policies.Transcoding.GrpcStatusCodes.IsGrpcRequest(context))
        {
            response.StatusCode = 200;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = Policies.Transcoding.GrpcStatusCodes.ToText(Policies.Transcoding.GrpcStatusCodes.FromGatewayStatus(problem.Status));
            response.Headers["grpc-message"] = Policies.Transcoding.GrpcStatusCodes.EncodeMessage(detail ?? problem.Title);
            response.ContentLength = 0;
            return response.StartAsync();
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString(TypeName, problem.Type);
            json.WriteString(TitleName, problem.EncodedTitle);
            json.WriteNumber(StatusName, problem.Status);
            if (detail is not null)
            {
                json.WriteString(DetailName, detail);
            }

            json.WriteString(InstanceName, context.Request.Path.Value);
            json.WriteString(RequestIdName, context.TraceIdentifier);
            if (telemetry is { Trace.IsSet: true })
            {
                Span<char> traceId = stackalloc char[Observability.TraceContext.TraceIdLength];
                telemetry.Trace.FormatTraceId(traceId);
                json.WriteString(TraceIdName, traceId);
            }
            json.WriteEndObject();
        }

        response.ContentLength = buffer.WrittenCount;

        // HEAD gets the headers only; starting the response marks it answered, so no outer stage writes it again.
        return HttpMethods.IsHead(context.Request.Method) ? response.StartAsync() : response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }
}
