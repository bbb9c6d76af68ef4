using Gatehouse.Errors;
using Gatehouse.Observability;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gatehouse.Pipeline;

/// <summary>
/// Outermost stage, the one place that answers for the gateway: assigns the request id, turns exceptions into
/// 500 problem+json without their text, forwarding failures into 502/503/504/413 (<see cref="ForwarderErrors"/>),
/// and gives a problem+json body to bodiless errors that routing made (404 no route, 405 with <c>Allow</c>).
/// Responses that came from a backend are never touched. One async frame for all of it: measured in bench/, a
/// second awaiting middleware per request cost about 2% of throughput.
/// </summary>
internal sealed partial class RequestLifecycleMiddleware(RequestDelegate next, ILogger<RequestLifecycleMiddleware> logger, GatewayTelemetry telemetry)
{
    public async Task InvokeAsync(HttpContext context)
    {
        RequestIds.Apply(context);

        // Access log, request metrics and the trace context share this frame: no second awaiting middleware.
        var requestTelemetry = telemetry.Start(context);
        try
        {
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException e)
            {
                LogBadRequest(logger, context.TraceIdentifier, e.StatusCode, e.Message);
                var problem = GatewayProblem.ForStatus(e.StatusCode);
                await ProblemWriter.WriteAsync(context, problem, null, closeConnection: true);
                return;
            }
            catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
            {
                LogUnhandled(logger, context.TraceIdentifier, e);
                await ProblemWriter.WriteAsync(context, GatewayProblem.Internal, "The gateway failed to handle the request; quote the request id when reporting it.");
                return;
            }

            var response = context.Response;
            if (response.StatusCode < 400 || response.HasStarted)
            {
                return;
            }

            if (context.Features.Get<IForwarderErrorFeature>() is { } forwarderError)
            {
                await ForwarderErrors.WriteAsync(context, forwarderError, logger);
            }
            else if (context.Features.Get<IReverseProxyFeature>() is null)
            {
                await WriteRoutingProblemAsync(context, response.StatusCode);
            }
        }
        finally
        {
            if (requestTelemetry is not null)
            {
                telemetry.Complete(context, requestTelemetry);
            }
        }
    }

    private static Task WriteRoutingProblemAsync(HttpContext context, int status)
    {
        var allow = context.Response.Headers.Allow;
        var problem = GatewayProblem.ForStatus(status);
        var detail = status switch
        {
            404 => $"No route matches {context.Request.Method} {context.Request.Host}{context.Request.Path}. 'gatehouse explain' shows why each route did not match.",
            405 => $"The route for {context.Request.Path} does not accept {context.Request.Method}; allowed: {allow}.",
            _ => null,
        };
        // Allow is part of a 405's meaning (RFC 9110 15.5.6), so it survives the header reset.
        return ProblemWriter.WriteAsync(context, problem, detail, allow: status == 405 ? allow : default);
    }

    [LoggerMessage(EventId = LogEvents.UnhandledError, Level = LogLevel.Error, Message = "Unhandled error for request {RequestId}")]
    private static partial void LogUnhandled(ILogger logger, string requestId, Exception exception);

    [LoggerMessage(EventId = LogEvents.BadRequest, Level = LogLevel.Debug, Message = "Bad request {RequestId}: {StatusCode} {Reason}")]
    private static partial void LogBadRequest(ILogger logger, string requestId, int statusCode, string reason);
}
