using System.Buffers;
using Gatehouse.Policies.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// The route's response cache, an RFC 9111 shared cache: after authentication and rate limiting (a cached answer
/// is still only given to callers the route admits, and still counted), before forwarding. This stage looks up and
/// dispatches; the parts are each in their own file: the lookup decision (<see cref="CacheLookup"/>), storability
/// (<see cref="CacheStorability"/>), entries (<see cref="CacheEntryBuilder"/>), answering from an entry
/// (<see cref="CacheResponseWriter"/>), coalescing (<see cref="RequestCoalescing"/>), forwarding
/// (<see cref="CacheForwarder"/>) and stale-while-revalidate (<see cref="BackgroundRefresh"/>).
/// </summary>
/// <remarks>
/// Not ASP.NET Core's OutputCaching middleware: its policies decide storability from the server's point of view and
/// ignore the backend's Cache-Control (it is written for an app caching its own output), it does not compute Age per
/// RFC 9111 4.2.3, has no stale-while-revalidate or stale-if-error, and does not revalidate with validators.
/// </remarks>
internal sealed class ResponseCacheMiddleware(
    RequestDelegate next, CachePolicy policy, ResponseCache cache, CacheMetrics metrics, TimeProvider time, IServiceScopeFactory scopes, ILogger<ResponseCacheMiddleware> logger)
{
    public const string CacheStatusHeader = "Cache-Status";

    /// <summary>RFC 9211: a route keyed by consumer neither stores nor serves for a request the gateway has no consumer for.</summary>
    internal const string NoConsumerStatus = "Gatehouse; fwd=bypass; detail=no-consumer";

    private readonly CacheForwarder _forwarder = new(next, metrics, time, logger);
    private readonly RequestCoalescing _coalescing = new(cache, metrics, time);
    private readonly BackgroundRefresh _refresh = new(cache, scopes, logger);

    public Task InvokeAsync(HttpContext context)
    {
        var store = policy.CacheStore;

        // A span only for recorded requests; it covers the lookup and, when the cache forwards, the forwarding too.
        var span = Observability.GatewayTracing.StartStage("gatehouse.cache");
        return span is null ? LookUpAsync(context, policy, store) : TracedAsync(context, policy, store, span);
    }

    private async Task TracedAsync(HttpContext context, CachePolicy policy, ICacheStore store, System.Diagnostics.Activity span)
    {
        try
        {
            await LookUpAsync(context, policy, store);
        }
        finally
        {
            if (context.Features.Get<ICacheOutcomeFeature>() is { } outcome)
            {
                span.SetTag("gatehouse.cache.result", CacheMetrics.Name(outcome.Outcome));
            }

            span.Dispose();
        }
    }

    private Task LookUpAsync(HttpContext context, CachePolicy policy, ICacheStore store)
    {
        var request = context.Request;
        var isGet = HttpMethods.IsGet(request.Method);
        if ((!isGet && !HttpMethods.IsHead(request.Method)) || !CacheKey.TryBuild(context, policy, out var buffer, out var length))
        {
            metrics.Record(context, policy.Route, CacheOutcome.Bypass);
            if (!isGet && CacheInvalidation.IsUnsafe(request.Method))
            {
                CacheInvalidation.OnSuccess(context, store);
            }

            if (policy.KeyByConsumer && (isGet || HttpMethods.IsHead(request.Method)) && (context.User as CallerPrincipal)?.Caller.QualifiedConsumer is null)
            {
                context.Response.Headers[CacheStatusHeader] = NoConsumerStatus;
            }

            return next(context);
        }

        var requestDirectives = CacheControl.ForRequest(request.Headers);
        if (store is MemoryCacheStore memory && !requestDirectives.NoCache && requestDirectives.MaxAge < 0 && requestDirectives.MinFresh < 0)
        {
            // The hot path: a fresh memory entry, no key string, no await until the body write.
            if (memory.TryGet(buffer.AsSpan(0, length), out var entry) && entry!.VaryMatches(request.Headers))
            {
                var now = time.GetUtcNow();
                if (CacheLookup.Decide(entry, requestDirectives, now, isGet, conditional: false) == CacheDecision.Fresh)
                {
                    ArrayPool<char>.Shared.Return(buffer!);
                    metrics.Record(context, policy.Route, CacheOutcome.Hit);
                    return CacheResponseWriter.WriteAsync(context, entry, entry.CurrentAge(now));
                }
            }
        }

        var key = new string(buffer!, 0, length);
        ArrayPool<char>.Shared.Return(buffer!);
        return HandleAsync(new ResponseCacheContext(context, policy, store, key, requestDirectives), isGet);
    }

    private async Task HandleAsync(ResponseCacheContext request, bool isGet)
    {
        var entry = await request.Store.GetAsync(request.Key);
        var context = request.Http;
        var headers = context.Request.Headers;

        // RFC 9211 forward reasons: nothing stored for this URI, or a stored response whose Vary does not match.
        var miss = "fwd=uri-miss";
        if (entry is not null && !entry.VaryMatches(headers))
        {
            entry = null;
            miss = "fwd=vary-miss";
        }

        var now = time.GetUtcNow();
        var conditional = headers.IfNoneMatch.Count > 0 || headers.IfModifiedSince.Count > 0 || headers.Range.Count > 0;
        var route = request.Policy.Route;
        switch (CacheLookup.Decide(entry, request.RequestDirectives, now, isGet, conditional))
        {
            case CacheDecision.Fresh:
                metrics.Record(context, route, CacheOutcome.Hit);
                await CacheResponseWriter.WriteAsync(context, entry!, entry!.CurrentAge(now));
                return;
            case CacheDecision.StaleAccepted:
                metrics.Record(context, route, CacheOutcome.Hit);
                await CacheResponseWriter.WriteAsync(context, entry!, entry!.CurrentAge(now), detail: "detail=max-stale");
                return;
            case CacheDecision.OnlyIfCached:
                metrics.Record(context, route, CacheOutcome.Miss);
                context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
                context.Response.Headers[CacheStatusHeader] = "Gatehouse; fwd=uri-miss; detail=only-if-cached";
                return;
            case CacheDecision.Forward:
                metrics.Record(context, route, CacheOutcome.Miss);
                context.Response.Headers[CacheStatusHeader] = "Gatehouse; " + (entry is null ? miss : "fwd=stale");
                await next(context);
                return;
            case CacheDecision.StaleWhileRevalidate:
                _refresh.StartOnce(request.Forwarding(entry, "fwd=stale"), _forwarder);
                metrics.Record(context, route, CacheOutcome.StaleWhileRevalidate);
                await CacheResponseWriter.WriteAsync(context, entry!, entry!.CurrentAge(now), detail: "detail=stale-while-revalidate");
                return;
            case CacheDecision.RevalidateForClient:
                await _forwarder.ForwardAndServeAsync(request.Forwarding(entry, "fwd=request"));
                return;
            default:
                // Revalidate or Fetch: identical requests share one trip to the backend.
                await _coalescing.FetchAsync(request.Forwarding(entry, entry is null ? miss : "fwd=stale"), _forwarder);
                return;
        }
    }
}
