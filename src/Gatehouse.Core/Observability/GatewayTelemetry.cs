using System.Diagnostics;
using Gatehouse.Errors;
using Gatehouse.Policies.Authentication;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.ObjectPool;

namespace Gatehouse.Observability;

/// <summary>
/// Starts and finishes each request's telemetry for the outermost stage (<see cref="RequestLifecycleMiddleware"/>, so
/// no extra async frame): the trace context, the request-duration metric, the server span and the access log line.
/// With everything off, <see cref="Start"/> returns null and nothing else runs.
/// </summary>
internal sealed class GatewayTelemetry
{
    private static readonly long TicksPerSecond = Stopwatch.Frequency;

    private readonly GatewayMetrics? _metrics;
    private readonly AccessLogWriter? _accessLog;
    private readonly bool _tracing;
    private readonly bool _recordSpans;
    private readonly ulong _sampleThreshold;
    private readonly double _sampleSuccess;
    private readonly ObjectPool<GatewayRequestTelemetry> _pool;

    public GatewayTelemetry(ObservabilityOptions options, GatewayMetrics metrics, AccessLogWriter? accessLog)
    {
        _metrics = options.Metrics.Enabled ? metrics : null;
        _accessLog = accessLog;
        _tracing = options.Tracing.Enabled;
        _recordSpans = options.Tracing.Enabled && options.Tracing.OtlpEndpoint is not null;

        // The ratio is applied to the trace id's low 63 bits, as OpenTelemetry's TraceIdRatioBasedSampler does, so every
        // gateway in a fleet takes the same decision for the same trace.
        _sampleThreshold = (ulong)(options.Tracing.SampleRatio * long.MaxValue);
        _sampleSuccess = options.AccessLog?.SampleSuccess ?? 1;
        _pool = new DefaultObjectPool<GatewayRequestTelemetry>(new ResetPolicy(), 1024);
    }

    public bool Enabled => _metrics is not null || _accessLog is not null || _tracing;

    public GatewayRequestTelemetry? Start(HttpContext context)
    {
        if (!Enabled)
        {
            return null;
        }

        var telemetry = _pool.Get();
        telemetry.StartTimestamp = Stopwatch.GetTimestamp();
        var request = context.Request;
        telemetry.Method = request.Method;
        if (_accessLog is not null)
        {
            // References to strings Kestrel made already; what the client sent, before path normalisation.
            telemetry.Path = request.Path.Value;
            telemetry.Query = request.QueryString.Value;
            var userAgent = request.Headers.UserAgent;
            telemetry.UserAgent = userAgent.Count == 1 ? userAgent[0] : null;
            telemetry.RequestBodyBytes = request.ContentLength;
        }

        if (_tracing)
        {
            StartTrace(request, telemetry);
        }

        context.Features.Set(telemetry);
        return telemetry;
    }

    private void StartTrace(HttpRequest request, GatewayRequestTelemetry telemetry)
    {
        var header = request.Headers.TraceParent;
        var traceparent = header.Count == 1 ? header[0] : null;
        if (TraceContext.TryParse(traceparent, out var parent, out _))
        {
            telemetry.Trace = parent;
            telemetry.Trace.SpanId = TraceContext.NewSpanId();
        }
        else
        {
            traceparent = null;
            telemetry.Trace = TraceContext.NewTrace();
            telemetry.Trace.Sampled = _recordSpans && (telemetry.Trace.TraceLow & long.MaxValue) < _sampleThreshold;
        }

        // Parent-based: a client's sampled flag is followed; the decision for a new trace was made above on its id.
        if (!_recordSpans || !telemetry.Trace.Sampled || !GatewayTracing.Source.HasListeners())
        {
            return;
        }

        var parentContext = traceparent is not null && ActivityContext.TryParse(traceparent, request.Headers.TraceState, isRemote: true, out var remote)
            ? remote
            : default;
        var activity = GatewayTracing.Source.StartActivity("gatehouse.request", ActivityKind.Server, parentContext);
        if (activity is not null)
        {
            telemetry.Activity = activity;
            telemetry.Trace = TraceContext.From(activity);
            telemetry.Trace.Sampled = true;
        }
    }

    public void Complete(HttpContext context, GatewayRequestTelemetry telemetry)
    {
        var now = Stopwatch.GetTimestamp();
        context.Features.Set<GatewayRequestTelemetry>(null);
        long? countedBytes = null;
        if (telemetry.ResponseBody is { Attached: true } body)
        {
            countedBytes = body.Count;
            body.Detach(context);
        }

        telemetry.DurationTicks = now - telemetry.StartTimestamp;
        var response = context.Response;
        telemetry.StatusCode = response.StatusCode;
        var route = context.Features.Get<Pipeline.IGatewayRouteFeature>()?.Route;
        telemetry.RouteName = route?.Name;
        telemetry.Service = route?.Service;
        if (telemetry.UpstreamStartTimestamp != 0)
        {
            // The last try got no response headers (transport failure, timeout, cancelled).
            CloseUpstreamTry(telemetry, 0, now);
        }

        if (telemetry.UpstreamTries > 1)
        {
            telemetry.Retries = Math.Max(telemetry.Retries, telemetry.UpstreamTries - 1);
        }

        if (_metrics is { } metrics)
        {
            metrics.RequestCompleted(route?.Name ?? GatewayMetrics.UnmatchedRoute, GatewayMetrics.NormalizeMethod(telemetry.Method), telemetry.StatusCode, (double)telemetry.DurationTicks / TicksPerSecond);
            if (telemetry.Error is { } error && IsAuthFailure(error))
            {
                metrics.AuthFailed(error.Slug);
            }
        }

        // Not context.User: its getter makes an empty principal for every anonymous request.
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.Authentication.IHttpAuthenticationFeature>()?.User is CallerPrincipal caller)
        {
            telemetry.Consumer ??= caller.Caller.Consumer;
        }

        if (telemetry.Activity is { } activity)
        {
            telemetry.Path ??= context.Request.Path.Value;
            telemetry.ClientAddress ??= context.Connection.RemoteIpAddress;
            FinishServerSpan(activity, telemetry);
        }

        if (_accessLog is { } accessLog
            && (telemetry.StatusCode >= 400 || _sampleSuccess >= 1 || (_sampleSuccess > 0 && Random.Shared.NextDouble() < _sampleSuccess)))
        {
            telemetry.ClientAddress = context.Connection.RemoteIpAddress;
            telemetry.RequestId = context.TraceIdentifier;
            telemetry.ResponseBodyBytes = response.ContentLength ?? countedBytes;
            telemetry.StartTime = accessLog.ToUtc(telemetry.StartTimestamp);
            if (!accessLog.TryEnqueue(telemetry))
            {
                _metrics?.AccessLogDropped();
            }
        }

        _pool.Return(telemetry);
    }

    /// <summary>
    /// Called by the forwarder's response transform when the backend's response has no Content-Length: the access
    /// log then counts the body as it is copied (a response with a length needs no counting).
    /// </summary>
    public void CountResponseBody(HttpContext context, GatewayRequestTelemetry telemetry)
    {
        if (_accessLog is not null && telemetry.ResponseBody is not { Attached: true })
        {
            (telemetry.ResponseBody ??= new CountingResponseBody()).Attach(context);
        }
    }

    /// <summary>Called by the forwarder's request transform before each try.</summary>
    public void UpstreamTryStarting(GatewayRequestTelemetry telemetry, long now)
    {
        if (telemetry.UpstreamStartTimestamp != 0)
        {
            CloseUpstreamTry(telemetry, 0, now);
        }

        telemetry.UpstreamStartTimestamp = now;
        telemetry.UpstreamTries++;
    }

    /// <summary>Called when a try got response headers (<paramref name="status"/>) or, with 0, failed without.</summary>
    public void CloseUpstreamTry(GatewayRequestTelemetry telemetry, int status, long now)
    {
        telemetry.UpstreamTicks = now - telemetry.UpstreamStartTimestamp;
        telemetry.UpstreamStatus = status;
        telemetry.UpstreamStartTimestamp = 0;
        if (_metrics is { } metrics && telemetry.Service is { } service)
        {
            metrics.UpstreamCompleted(service, telemetry.Target ?? "unknown", status, (double)telemetry.UpstreamTicks / TicksPerSecond);
        }

        if (telemetry.UpstreamActivity is { } attempt)
        {
            telemetry.UpstreamActivity = null;
            if (status > 0)
            {
                attempt.SetTag("http.response.status_code", status);
            }

            if (status is 0 or >= 500)
            {
                attempt.SetStatus(ActivityStatusCode.Error);
            }

            attempt.Stop();
        }
    }

    private static bool IsAuthFailure(GatewayProblem error) =>
        error == GatewayProblem.Unauthenticated || error == GatewayProblem.InsufficientScope
        || error == GatewayProblem.AccessDenied || error == GatewayProblem.IdentityProviderUnavailable;

    private static void FinishServerSpan(Activity activity, GatewayRequestTelemetry telemetry)
    {
        var route = telemetry.RouteName;
        activity.DisplayName = route is null ? telemetry.Method : telemetry.Method + " " + route;
        activity.SetTag("http.request.method", telemetry.Method);
        activity.SetTag("url.path", telemetry.Path);
        activity.SetTag("client.address", telemetry.ClientAddress?.ToString());
        activity.SetTag("http.response.status_code", telemetry.StatusCode);
        if (route is not null)
        {
            activity.SetTag("http.route", route);
            activity.SetTag("gatehouse.service", telemetry.Service);
        }

        if (telemetry.Target is not null)
        {
            activity.SetTag("gatehouse.target", telemetry.Target);
        }

        if (telemetry.Retries > 0)
        {
            activity.SetTag("gatehouse.retries", telemetry.Retries);
        }

        if (telemetry.Error is { } error)
        {
            activity.SetTag("error.type", error.Slug);
        }

        if (telemetry.StatusCode >= 500)
        {
            activity.SetStatus(ActivityStatusCode.Error);
        }

        activity.Stop();
    }

    private sealed class ResetPolicy : PooledObjectPolicy<GatewayRequestTelemetry>
    {
        public override GatewayRequestTelemetry Create() => new();

        public override bool Return(GatewayRequestTelemetry obj)
        {
            obj.Reset();
            return true;
        }
    }
}
