using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gatehouse.Errors;

/// <summary>
/// Turns YARP's forwarding failures into the gateway's problem+json answers: 502 (refused, reset, bad response),
/// 503 (no healthy target), 504 (timeout), 413 (chunked body over the limit). A failure after the response began
/// is left as YARP leaves it: the client connection is aborted, so a cut-off body never looks complete.
/// </summary>
internal static partial class ForwarderErrors
{
    public static Task WriteAsync(HttpContext context, IForwarderErrorFeature error, ILogger logger)
    {
        var proxy = context.Features.Get<IReverseProxyFeature>();
        var service = proxy?.Cluster?.Config.ClusterId ?? "?";
        var route = proxy?.Route.Config.RouteId ?? "?";
        if (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away (a closed tab, a load generator stopping): routine, not a gateway fault.
            LogClientAborted(logger, context.TraceIdentifier, route, error.Error);
            return Task.CompletedTask;
        }

        LogForwardingFailed(logger, context.TraceIdentifier, route, service, error.Error, error.Exception);
        return error.Error switch
        {
            ForwarderError.NoAvailableDestinations =>
                ProblemWriter.WriteAsync(context, GatewayProblem.NoHealthyTarget, $"Service '{service}' has no healthy target.", retryAfter: "1"),
            ForwarderError.RequestTimedOut =>
                ProblemWriter.WriteAsync(context, GatewayProblem.GatewayTimeout, $"Service '{service}' did not answer within its timeout."),
            ForwarderError.RequestBodyClient when FindBadRequest(error.Exception) is { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                ProblemWriter.WriteAsync(context, GatewayProblem.BodyTooLarge, "The request body grew over the limit for this route.", closeConnection: true),
            ForwarderError.RequestBodyClient =>
                ProblemWriter.WriteAsync(context, GatewayProblem.ForStatus(FindBadRequest(error.Exception)?.StatusCode ?? 400), "The request body could not be read.", closeConnection: true),
            ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
                or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled => Task.CompletedTask,
            _ => ProblemWriter.WriteAsync(context, GatewayProblem.BadGateway, $"Service '{service}' failed: {Describe(error.Error)}."),
        };
    }

    private static BadHttpRequestException? FindBadRequest(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is BadHttpRequestException bad)
            {
                return bad;
            }
        }

        return null;
    }

    private static string Describe(ForwarderError error) => error switch
    {
        ForwarderError.Request => "the connection was refused or reset",
        ForwarderError.RequestCreation => "the request could not be built",
        ForwarderError.RequestBodyDestination => "it stopped reading the request body",
        ForwarderError.ResponseHeaders => "its response headers were invalid",
        _ => error.ToString(),
    };

    [LoggerMessage(EventId = Observability.LogEvents.ForwardingFailed, Level = LogLevel.Warning, Message = "Forwarding request {RequestId} on route {Route} to service {Service} failed: {Error}")]
    private static partial void LogForwardingFailed(ILogger logger, string requestId, string route, string service, ForwarderError error, Exception? exception);

    [LoggerMessage(EventId = Observability.LogEvents.ClientAborted, Level = LogLevel.Debug, Message = "Request {RequestId} on route {Route} ended by the client: {Error}")]
    private static partial void LogClientAborted(ILogger logger, string requestId, string route, ForwarderError error);
}
