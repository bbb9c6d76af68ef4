using System.Diagnostics;
using System.Net;
using Gatehouse.Errors;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Observability;

/// <summary>
/// What one request's access log line, metrics and span need, as a typed feature
/// (<c>context.Features.Get&lt;GatewayRequestTelemetry&gt;()</c>): set by the outermost stage when observability is
/// on, filled in by the stages that know (authentication: the consumer; rate limiting: the decision; the cache: its
/// status; resilience: retries; the forwarder transforms: target and upstream time; <c>ProblemWriter</c>: the error
/// type). Pooled: after the response its access log line is formatted and it goes straight back to the pool, so a
/// request costs no allocation for it. Nothing may keep a reference after the request ends.
/// </summary>
public sealed class GatewayRequestTelemetry
{
    internal long StartTimestamp;
    internal DateTime StartTime;

    // Captured from the request at the start (references to strings Kestrel already made).
    internal string Method = "";
    internal string? Path;
    internal string? Query;
    internal string? UserAgent;
    internal long? RequestBodyBytes;

    // Filled at the end.
    internal IPAddress? ClientAddress;
    internal string? RequestId;
    internal int StatusCode;
    internal long? ResponseBodyBytes;
    internal long DurationTicks;
    internal string? RouteName;
    internal string? Service;

    internal long UpstreamStartTimestamp;
    internal long UpstreamTicks;
    internal int UpstreamStatus;
    internal int UpstreamTries;

    /// <summary>The trace this request belongs to; zero when tracing is off and the client sent no <c>traceparent</c>.</summary>
    internal TraceContext Trace;

    /// <summary>The server span, when this request is recorded.</summary>
    internal Activity? Activity;

    internal Activity? UpstreamActivity;

    /// <summary>Counts the response body when the access log is on; reused with this object.</summary>
    internal CountingResponseBody? ResponseBody;

    /// <summary>The target (YARP destination id) of the last try.</summary>
    public string? Target { get; set; }

    /// <summary>The authenticated consumer (API key owner or token subject), if any.</summary>
    public string? Consumer { get; set; }

    /// <summary>The rate-limit outcome: <c>allowed</c>, <c>shadow_rejected</c>, <c>rejected</c>, <c>store_failed</c> (refused: Redis unreachable), or null when no limit ran.</summary>
    public string? RateLimitDecision { get; set; }

    /// <summary>The response cache's result for this request (<c>hit</c>, <c>miss</c>, <c>stale</c>, <c>bypass</c>, ...), or null; set by the cache stage.</summary>
    public string? CacheStatus { get; set; }

    /// <summary>The problem the gateway answered with, or null when the response came from a backend.</summary>
    internal GatewayProblem? Error { get; set; }

    /// <summary>Tries sent again after a failed one.</summary>
    public int Retries { get; set; }

    internal static GatewayRequestTelemetry? Of(HttpContext context) => context.Features.Get<GatewayRequestTelemetry>();

    internal void Reset()
    {
        Method = "";
        Path = null;
        Query = null;
        UserAgent = null;
        RequestBodyBytes = null;
        ClientAddress = null;
        RequestId = null;
        StatusCode = 0;
        ResponseBodyBytes = null;
        DurationTicks = 0;
        RouteName = null;
        Service = null;
        UpstreamStartTimestamp = 0;
        UpstreamTicks = 0;
        UpstreamStatus = 0;
        UpstreamTries = 0;
        Trace = default;
        Activity = null;
        UpstreamActivity = null;
        Target = null;
        Consumer = null;
        RateLimitDecision = null;
        CacheStatus = null;
        Error = null;
        Retries = 0;
    }
}
