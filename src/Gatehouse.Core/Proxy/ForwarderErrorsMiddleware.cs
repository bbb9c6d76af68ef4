using Gatehouse.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gatehouse.Proxy;

/// <summary>
/// Turns YARP's forwarding failures into the gateway's problem+json answers: 502 (refused, reset, bad response),
/// 503 (no healthy target), 504 (timeout), 413 (chunked body over the limit). A failure after the response began
/// is left as YARP leaves it: the client connection is aborted, so a cut-off body never looks complete.
/// </summary>
internal sealed partial class ForwarderErrorsMiddleware(RequestDelegate next, ILogger<ForwarderErrorsMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is null || context.Response.HasStarted)
        {
            return;
        }

        var proxy = context.Features.Get<IReverseProxyFeature>();
        var service = proxy?.Cluster?.Config.ClusterId ?? "?";
        var route = proxy?.Route.Config.RouteId ?? "?";
        LogForwardingFailed(logger, context.TraceIdentifier, route, service, error.Error, error.Exception);
        switch (error.Error)
        {
            case ForwarderError.NoAvailableDestinations:
                await ProblemWriter.WriteAsync(context, GatewayProblem.NoHealthyTarget, $"Service '{service}' has no healthy target.", retryAfter: "1");
                break;
            case ForwarderError.RequestTimedOut:
                await ProblemWriter.WriteAsync(context, GatewayProblem.GatewayTimeout, $"Service '{service}' did not answer within its timeout.");
                break;
            case ForwarderError.RequestBodyClient when FindBadRequest(error.Exception) is { StatusCode: StatusCodes.Status413PayloadTooLarge }:
                await ProblemWriter.WriteAsync(context, GatewayProblem.BodyTooLarge, "The request body grew over the limit for this route.", closeConnection: true);
                break;
            case ForwarderError.RequestBodyClient:
                await ProblemWriter.WriteAsync(context, GatewayProblem.BadRequest, "The request body could not be read.", closeConnection: true);
                break;
            case ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
                or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled:
                // The client went away; nobody is left to answer.
                break;
            default:
                await ProblemWriter.WriteAsync(context, GatewayProblem.BadGateway, $"Service '{service}' failed: {Describe(error.Error)}.");
                break;
        }
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

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Forwarding request {RequestId} on route {Route} to service {Service} failed: {Error}")]
    private static partial void LogForwardingFailed(ILogger logger, string requestId, string route, string service, ForwarderError error, Exception? exception);
}
