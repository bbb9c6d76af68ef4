using System.Globalization;
using Gatehouse.Errors;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Policies.RateLimiting;

/// <summary>
/// Applies the route's <c>rateLimit</c> policies, in order, after authentication (so keys can be consumers and
/// claims). Over a limit: 429 problem+json with <c>Retry-After</c> and the <c>RateLimit-Policy</c> / <c>RateLimit</c>
/// fields of draft-ietf-httpapi-ratelimit-headers; admitted responses carry the fields too, unless a policy says
/// otherwise. A policy in shadow mode decides and counts but never refuses.
/// </summary>
/// <remarks>
/// Not ASP.NET Core's RateLimiter middleware: it keys partitions by the key alone (two policies returning the same
/// key share a counter), has no Redis store, no shadow mode and no RateLimit fields.
/// </remarks>
internal sealed partial class RateLimitMiddleware(RequestDelegate next, RouteRateLimits limits, string route, ILogger logger)
{
    public const string PolicyHeader = "RateLimit-Policy";
    public const string LimitHeader = "RateLimit";

    public Task InvokeAsync(HttpContext context)
    {
        if (!limits.AllMemory)
        {
            return LimitAsync(context);
        }

        // Every decision local: no await, no state machine.
        var span = Observability.GatewayTracing.StartStage("gatehouse.rate_limit");
        var results = limits.Policies.Length == 1 ? null : new RateLimitDecision[limits.Policies.Length];
        var single = default(RateLimitDecision);
        for (var i = 0; i < limits.Policies.Length; i++)
        {
            var policy = limits.Policies[i];
            var decision = ((MemoryRateLimiter)policy.Limiter).Acquire(policy.Key.Resolve(context, route));
            if (results is null)
            {
                single = decision;
            }
            else
            {
                results[i] = decision;
            }

            if (Refuses(policy, decision, route))
            {
                span?.Dispose();
                ReleaseLeases(results, single, i);
                return Reject(context, limits, results, single, i);
            }
        }

        span?.Dispose();
        RecordAdmitted(context, results, single);
        HoldFields(context, limits, results, single);
        return HasLease(results, single) ? ForwardAndRelease(context, results, single) : next(context);
    }

    private async Task LimitAsync(HttpContext context)
    {
        // Stopped before the rest of the pipeline runs (a second Stop by using is a no-op).
        using var span = Observability.GatewayTracing.StartStage("gatehouse.rate_limit");
        var results = new RateLimitDecision[limits.Policies.Length];
        for (var i = 0; i < limits.Policies.Length; i++)
        {
            var policy = limits.Policies[i];
            var decision = await policy.Limiter.AcquireAsync(policy.Key.Resolve(context, route));
            results[i] = decision;
            if (decision.StoreFailed && !decision.Allowed)
            {
                ReleaseLeases(results, default, i);
                Record(context, "store_failed");
                await ProblemWriter.WriteAsync(context, GatewayProblem.RateLimitUnavailable,
                    $"The rate limit '{policy.Name}' is shared through Redis, which cannot be reached; the policy refuses rather than admits uncounted requests.",
                    retryAfter: "1");
                return;
            }

            if (Refuses(policy, decision, route))
            {
                ReleaseLeases(results, default, i);
                await Reject(context, limits, results, default, i);
                return;
            }
        }

        span?.Dispose();
        RecordAdmitted(context, results, default);
        HoldFields(context, limits, results, default);
        if (HasLease(results, default))
        {
            await ForwardAndRelease(context, results, default);
            return;
        }

        await next(context);
    }

    private bool Refuses(RateLimitPolicy policy, in RateLimitDecision decision, string route)
    {
        if (decision.Allowed)
        {
            if (decision.StoreFailed)
            {
                Interlocked.Increment(ref policy.Decisions.StoreFailed);
            }
            else
            {
                Interlocked.Increment(ref policy.Decisions.Allowed);
            }
            return false;
        }

        if (policy.Options.Shadow)
        {
            Interlocked.Increment(ref policy.Decisions.ShadowRejected);
            LogShadowRejected(logger, policy.Name, route);
            return false;
        }

        Interlocked.Increment(ref policy.Decisions.Rejected);
        return true;
    }

    private Task Reject(HttpContext context, RouteRateLimits limits, RateLimitDecision[]? results, RateLimitDecision single, int rejectedAt)
    {
        var policy = limits.Policies[rejectedAt];
        var decision = results is null ? single : results[rejectedAt];
        LogRejected(logger, policy.Name, context.TraceIdentifier);
        Record(context, "rejected");
        var headers = new HeaderDictionary();
        Fields(limits, results, single, rejectedAt, rejected: true, into: null)?.Apply(headers);
        return ProblemWriter.WriteAsync(context, GatewayProblem.RateLimited,
            $"The rate limit '{policy.Name}' allows {policy.Options.Limit} requests per {Describe(policy.Options.Window)}; retry in {Seconds.Ceiling(decision.RetryAfter)}s.",
            retryAfter: Math.Max(1, Seconds.Ceiling(decision.RetryAfter)).ToString(CultureInfo.InvariantCulture),
            headers: headers);
    }

    private static string Describe(TimeSpan window) => window.TotalSeconds switch
    {
        1 => "second",
        60 => "minute",
        3600 => "hour",
        var s => $"{s:0.###}s",
    };

    /// <summary>
    /// The RateLimit fields for the policies evaluated so far (0..<paramref name="last"/>), added to the request's
    /// deferred fields when <paramref name="into"/> is given (else to a new holder); null when none is due, and then
    /// nothing is created.
    /// </summary>
    private static DeferredResponseHeaders? Fields(RouteRateLimits limits, RateLimitDecision[]? results, RateLimitDecision single, int last, bool rejected, HttpContext? into)
    {
        string? limit = null;
        List<string>? items = null;
        var legacy = -1;
        for (var i = 0; i <= last; i++)
        {
            var policy = limits.Policies[i];
            var decision = results is null ? single : results[i];
            var mode = policy.Options.Headers;
            if (mode == RateLimitHeaderMode.Never || (mode == RateLimitHeaderMode.OnReject && !rejected) || decision.StoreFailed)
            {
                continue;
            }

            var item = policy.LimitItem(decision.Remaining, decision.Reset);
            if (limit is null)
            {
                limit = item;
            }
            else
            {
                (items ??= [limit]).Add(item);
            }

            if (policy.Options.LegacyHeaders && (legacy < 0 || decision.Remaining < (results is null ? single : results[legacy]).Remaining))
            {
                legacy = i;
            }
        }

        if (limit is null)
        {
            return null;
        }

        var fields = into is null ? new DeferredResponseHeaders() : DeferredResponseHeaders.Of(into);
        fields.Add(PolicyHeader, rejected ? limits.RejectionPolicyHeader : limits.PolicyHeader);
        fields.Add(LimitHeader, items is null ? limit : string.Join(", ", items));
        if (legacy >= 0)
        {
            var decision = results is null ? single : results[legacy];
            fields.Add("X-RateLimit-Limit", limits.Policies[legacy].Options.Limit.ToString(CultureInfo.InvariantCulture));
            fields.Add("X-RateLimit-Remaining", Math.Max(0, decision.Remaining).ToString(CultureInfo.InvariantCulture));
            fields.Add("X-RateLimit-Reset", Seconds.Text(decision.Reset));
        }

        return fields;
    }

    /// <summary>An admitted request's fields wait for the response (see <see cref="DeferredResponseHeaders"/>).</summary>
    private static void HoldFields(HttpContext context, RouteRateLimits limits, RateLimitDecision[]? results, RateLimitDecision single) =>
        Fields(limits, results, single, limits.Policies.Length - 1, rejected: false, into: context);

    /// <summary>The outcome for the access log (<c>gatehouse.rate_limit</c>), when observability is on.</summary>
    private static void Record(HttpContext context, string outcome)
    {
        if (Observability.GatewayRequestTelemetry.Of(context) is { } telemetry)
        {
            telemetry.RateLimitDecision = outcome;
        }
    }

    /// <summary>Admitted: <c>shadow_rejected</c> when a shadow policy would have refused, else <c>allowed</c>.</summary>
    private static void RecordAdmitted(HttpContext context, RateLimitDecision[]? results, RateLimitDecision single)
    {
        var shadowRejected = results is null ? !single.Allowed : Array.Exists(results, static d => !d.Allowed);
        Record(context, shadowRejected ? "shadow_rejected" : "allowed");
    }

    private static bool HasLease(RateLimitDecision[]? results, RateLimitDecision single)
    {
        if (results is null)
        {
            return single.Lease is not null;
        }

        foreach (var result in results)
        {
            if (result.Lease is not null)
            {
                return true;
            }
        }

        return false;
    }

    private static void ReleaseLeases(RateLimitDecision[]? results, RateLimitDecision single, int last)
    {
        if (results is null)
        {
            if (single.Lease is { } lease)
            {
                MemoryRateLimiter.Release(lease);
            }

            return;
        }

        for (var i = 0; i <= last && i < results.Length; i++)
        {
            if (results[i].Lease is { } lease)
            {
                MemoryRateLimiter.Release(lease);
            }
        }
    }

    private async Task ForwardAndRelease(HttpContext context, RateLimitDecision[]? results, RateLimitDecision single)
    {
        try
        {
            await next(context);
        }
        finally
        {
            ReleaseLeases(results, single, int.MaxValue);
        }
    }

    [LoggerMessage(EventId = Observability.LogEvents.RateLimitRejected, Level = LogLevel.Debug, Message = "Rate limit {Policy} refused request {RequestId}")]
    private static partial void LogRejected(ILogger logger, string policy, string requestId);

    [LoggerMessage(EventId = Observability.LogEvents.RateLimitShadowRejected, Level = LogLevel.Debug, Message = "Rate limit {Policy} (shadow) would have refused a request on route {Route}")]
    private static partial void LogShadowRejected(ILogger logger, string policy, string route);
}
