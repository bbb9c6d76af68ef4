using System.Globalization;
using System.Net.Http;
using Gatehouse.Errors;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gatehouse.Policies.Resilience;

/// <summary>
/// The resilience stage, in the proxy pipeline before load balancing so that every try goes through load balancing,
/// passive health and the forwarder again: bulkhead (503 <c>service-overloaded</c>), circuit breaker (503
/// <c>circuit-open</c> or the route's fallback, no backend call), response timeout (504), and retries of
/// qualifying requests on another target within the service's retry budget. A route whose service uses none of
/// these costs one metadata lookup.
/// </summary>
internal sealed class ResilienceMiddleware(RequestDelegate next, RouteResilience policy, string route, ILogger logger, ResilienceMetrics metrics)
{
    private static readonly string[] RetryAfterSeconds = Enumerable.Range(0, 121).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

    public Task InvokeAsync(HttpContext context) => InvokeAsync(context, policy);

    // Not async: the checks that answer without a backend call complete synchronously, and the forwarding paths each
    // have one async frame (a second awaiting frame per request measurably costs throughput, see RequestLifecycleMiddleware).
    private Task InvokeAsync(HttpContext context, RouteResilience policy)
    {
        var service = policy.Service;
        var breaker = service.Breaker;
        var probe = false;
        if (breaker is not null && !breaker.TryEnter(out probe, out var retryAfter, logger))
        {
            metrics.Rejected(service.Name, "circuit_open");
            ResilienceLog.CircuitOpen(logger, context.TraceIdentifier, service.Name);
            return WriteOpenCircuitAsync(context, policy, retryAfter);
        }

        var bulkhead = service.Bulkhead;
        if (bulkhead is not null && !bulkhead.TryEnter())
        {
            breaker?.OnAbandoned(probe);
            metrics.Rejected(service.Name, "overloaded");
            ResilienceLog.Overloaded(logger, context.TraceIdentifier, service.Name, bulkhead.Limit);
            return ProblemWriter.WriteAsync(context, GatewayProblem.ServiceOverloaded,
                $"Service '{service.Name}' has {bulkhead.Limit} requests in flight, its limit.", retryAfter: "1");
        }

        if (policy.IdleTimeout is not null && context.Features.Get<IReverseProxyFeature>() is ReverseProxyFeature proxy)
        {
            proxy.Cluster = policy.ClusterFor(proxy.Cluster);
        }

        if (service.Retry is null && policy.ResponseTimeout is null)
        {
            return breaker is null && bulkhead is null ? next(context) : ForwardOnceAsync(context, breaker, probe, bulkhead);
        }

        return ForwardAsync(context, policy, breaker, probe, bulkhead);
    }

    /// <summary>Breaker and/or bulkhead only: no per-request state at all.</summary>
    private async Task ForwardOnceAsync(HttpContext context, CircuitBreaker? breaker, bool probe, Bulkhead? bulkhead)
    {
        var clientAborted = context.RequestAborted;
        var finished = false;
        try
        {
            await next(context);
            finished = true;
        }
        finally
        {
            bulkhead?.Exit();
            if (breaker is not null)
            {
                Report(breaker, probe, finished ? Classify(context, clientAborted) : Outcome.Abandoned);
            }
        }
    }

    private async Task ForwardAsync(HttpContext context, RouteResilience policy, CircuitBreaker? breaker, bool probe, Bulkhead? bulkhead)
    {
        var service = policy.Service;
        var budget = service.Retry;
        var clientAborted = context.RequestAborted;
        var state = ResilienceRequest.Pool.Get();
        state.Start(policy, clientAborted);
        context.Features.Set(state);
        if (policy.ResponseTimeout is not null)
        {
            context.RequestAborted = state.Token;
        }

        var reported = false;
        try
        {
            budget?.OnRequest();
            var canRetry = budget is not null && await QualifiesForRetryAsync(context, budget.Options);
            var proxy = context.Features.Get<IReverseProxyFeature>()!;
            var targets = proxy.AvailableDestinations;
            for (var attempt = 0; ; attempt++)
            {
                state.RetryAllowed = canRetry && attempt < budget!.Options.Attempts;
                state.HeldBackStatus = 0;
                state.BudgetSpent = false;
                reported = false;
                await next(context);

                var outcome = Classify(context, clientAborted);
                if (breaker is not null)
                {
                    // Only the first try of a probe request is the probe; its retries are ordinary calls.
                    Report(breaker, probe, outcome);
                    probe = false;
                    reported = true;
                }

                if (state.TimedOut(clientAborted))
                {
                    await WriteTimeoutAsync(context, policy);
                    return;
                }

                if (breaker is not null && breaker.State != CircuitState.Closed && (state.HeldBackStatus != 0 || state.RetryAllowed))
                {
                    // The breaker opened meanwhile: no further backend call. A held-back 5xx left nothing to send.
                    if (state.HeldBackStatus != 0)
                    {
                        await WriteOpenCircuitAsync(context, policy, breaker.Options.BreakFor);
                    }

                    return;
                }

                if (state.BudgetSpent)
                {
                    metrics.Rejected(service.Name, "retry_budget");
                    ResilienceLog.BudgetExhausted(logger, context.TraceIdentifier, service.Name);
                    return;
                }

                string reason;
                if (state.HeldBackStatus != 0)
                {
                    // The transform already took this retry from the budget when it held the 5xx back.
                    reason = state.HeldBackStatus.ToString(CultureInfo.InvariantCulture);
                }
                else if (state.RetryAllowed && outcome == Outcome.Failure && !context.Response.HasStarted
                    && context.Features.Get<IForwarderErrorFeature>() is { } error && ConditionOf(error) is { } condition
                    && budget!.Options.On.Contains(condition))
                {
                    if (!budget.TryRetry())
                    {
                        metrics.Rejected(service.Name, "retry_budget");
                        ResilienceLog.BudgetExhausted(logger, context.TraceIdentifier, service.Name);
                        return;
                    }

                    reason = condition == RetryCondition.ConnectFailure ? "connect_failure" : condition == RetryCondition.Reset ? "reset" : "timeout";
                }
                else
                {
                    return;
                }

                metrics.Retried(service.Name, reason);
                ResilienceLog.Retrying(logger, context.TraceIdentifier, service.Name, attempt + 1, reason);
                if (proxy.ProxiedDestination is { } tried)
                {
                    state.Tried.Add(tried);
                }

                try
                {
                    await Task.Delay(Backoff(budget!.Options.Backoff, attempt), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    if (state.TimedOut(clientAborted))
                    {
                        await WriteTimeoutAsync(context, policy);
                    }

                    return;
                }

                // Nothing of the failed try reached the client: start the response afresh for the next one.
                context.Response.Clear();
                context.Features.Set<IForwarderErrorFeature>(null);
                if (context.Request.Body.CanSeek)
                {
                    context.Request.Body.Position = 0;
                }

                proxy.AvailableDestinations = Untried(targets, state.Tried);
            }
        }
        catch when (breaker is not null && !reported)
        {
            breaker.OnAbandoned(probe);
            throw;
        }
        finally
        {
            bulkhead?.Exit();
            if (policy.ResponseTimeout is not null)
            {
                context.RequestAborted = clientAborted;
            }

            context.Features.Set<ResilienceRequest>(null);
            ResilienceRequest.Pool.Return(state);
        }
    }

    /// <summary>
    /// Idempotent methods, or a request carrying <c>Idempotency-Key</c>; a body only when it is small enough to buffer
    /// for replay (then it is read now); never a protocol upgrade.
    /// </summary>
    private static async ValueTask<bool> QualifiesForRetryAsync(HttpContext context, RetryOptions options)
    {
        var request = context.Request;
        var method = request.Method;
        if (!(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsPut(method)
            || HttpMethods.IsDelete(method) || request.Headers.ContainsKey("Idempotency-Key")))
        {
            return false;
        }

        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
            || context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true })
        {
            return false;
        }

        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is not { CanHaveBody: true })
        {
            return true;
        }

        // Chunked (length unknown until read) or too large: streaming it matters more than retrying it.
        if (request.ContentLength is not { } length || length > options.MaxReplayBody)
        {
            return false;
        }

        request.EnableBuffering(bufferThreshold: (int)Math.Min(options.MaxReplayBody, int.MaxValue));
        await request.Body.DrainAsync(context.RequestAborted);
        request.Body.Position = 0;
        return true;
    }

    /// <summary>Exponential backoff with jitter: base × 2^attempt, scaled by a random factor in [0.5, 1).</summary>
    internal static TimeSpan Backoff(TimeSpan baseDelay, int attempt) =>
        TimeSpan.FromTicks((long)(baseDelay.Ticks * Math.Pow(2, Math.Min(attempt, 16)) * (0.5 + (Random.Shared.NextDouble() / 2))));

    /// <summary>The service's healthy targets minus those tried; all of them again when every one was tried.</summary>
    private static IReadOnlyList<DestinationState> Untried(IReadOnlyList<DestinationState> targets, List<DestinationState> tried)
    {
        var rest = new List<DestinationState>(targets.Count);
        foreach (var target in targets)
        {
            if (!tried.Contains(target))
            {
                rest.Add(target);
            }
        }

        return rest.Count > 0 ? rest : targets;
    }

    internal static RetryCondition? ConditionOf(IForwarderErrorFeature error)
    {
        switch (error.Error)
        {
            case ForwarderError.Request:
                for (var e = error.Exception; e is not null; e = e.InnerException)
                {
                    if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError })
                    {
                        return RetryCondition.ConnectFailure;
                    }
                }

                return RetryCondition.Reset;
            case ForwarderError.RequestTimedOut:
                // SocketsHttpHandler reports its ConnectTimeout as a cancellation wrapping a TimeoutException.
                for (var e = error.Exception; e is not null; e = e.InnerException)
                {
                    if (e is TimeoutException)
                    {
                        return RetryCondition.ConnectFailure;
                    }
                }

                return RetryCondition.Timeout;
            case ForwarderError.RequestBodyDestination:
                return RetryCondition.Reset;
            default:
                return null;
        }
    }

    private enum Outcome
    {
        Success,
        Failure,

        /// <summary>No verdict on the backend: the client went away, or no target was called.</summary>
        Abandoned,
    }

    private static Outcome Classify(HttpContext context, CancellationToken clientAborted)
    {
        if (clientAborted.IsCancellationRequested)
        {
            return Outcome.Abandoned;
        }

        if (context.Features.Get<IForwarderErrorFeature>() is { } error)
        {
            return error.Error == ForwarderError.NoAvailableDestinations ? Outcome.Abandoned : Outcome.Failure;
        }

        return context.Response.StatusCode >= 500 ? Outcome.Failure : Outcome.Success;
    }

    private void Report(CircuitBreaker breaker, bool probe, Outcome outcome)
    {
        if (outcome == Outcome.Abandoned)
        {
            breaker.OnAbandoned(probe);
        }
        else
        {
            breaker.OnResult(probe, outcome == Outcome.Failure, logger);
        }
    }

    private Task WriteTimeoutAsync(HttpContext context, RouteResilience policy)
    {
        var timeout = policy.ResponseTimeout.GetValueOrDefault();
        metrics.TimedOut(policy.Service.Name);
        ResilienceLog.ResponseTimedOut(logger, context.TraceIdentifier, route, policy.Service.Name, timeout.TotalMilliseconds);
        return ProblemWriter.WriteAsync(context, GatewayProblem.GatewayTimeout,
            $"Service '{policy.Service.Name}' sent no response within {timeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms.");
    }

    private static Task WriteOpenCircuitAsync(HttpContext context, RouteResilience policy, TimeSpan retryAfter)
    {
        var seconds = (int)Math.Clamp(Math.Ceiling(retryAfter.TotalSeconds), 1, RetryAfterSeconds.Length - 1);
        if (policy.Fallback is not { } fallback)
        {
            return ProblemWriter.WriteAsync(context, GatewayProblem.CircuitOpen,
                $"Service '{policy.Service.Name}' is failing; requests are not sent to it for now.", retryAfter: RetryAfterSeconds[seconds]);
        }

        var response = context.Response;

        // After a held-back 5xx the backend's headers are still there; they do not describe this answer.
        response.Headers.Clear();
        response.StatusCode = fallback.Status;
        response.Headers.CacheControl = "no-store";
        response.Headers.RetryAfter = RetryAfterSeconds[seconds];
        response.Headers[RequestIds.HeaderName] = context.TraceIdentifier;
        if (fallback.ContentType is not null)
        {
            response.ContentType = fallback.ContentType;
        }

        response.ContentLength = fallback.Body.Length;
        return HttpMethods.IsHead(context.Request.Method) || fallback.Body.Length == 0
            ? response.StartAsync()
            : response.Body.WriteAsync(fallback.Body).AsTask();
    }
}
