using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// The cache's way to the backend: the request goes on with <see cref="CachingResponseBody"/> in place of the
/// response body, which keeps a copy to store when the response may be stored. When the request revalidates a
/// stored entry, a 304 is answered from the freshened entry and a failure within stale-if-error from the stale one.
/// </summary>
internal sealed class CacheForwarder(RequestDelegate next, CacheMetrics metrics, TimeProvider time, ILogger logger)
{
    /// <summary>
    /// Forwards a client's request and serves what came of it: the backend's response as it went (stored or not),
    /// the freshened entry on a 304, or the stale entry on a failure within stale-if-error.
    /// </summary>
    /// <returns>What the requests waiting for this one may be served, or null when they must ask for themselves.</returns>
    public async Task<SharedAnswer?> ForwardAndServeAsync(ResponseCacheContext request)
    {
        var result = await ForwardAsync(request);
        var response = request.Http.Response;
        SharedAnswer served;
        switch (result.Outcome)
        {
            case ForwardOutcome.Revalidated:
                served = new SharedAnswer(result.Entry!, request.Forward + "; fwd-status=304", null);
                ClearResponse(response, result.EarlierHeaders);
                metrics.Record(request.Http, request.Policy.Route, CacheOutcome.Revalidated);
                break;
            case ForwardOutcome.Failed when request.Stored is { } stale && result.StaleAllowed:
                var status = response.StatusCode;
                served = new SharedAnswer(stale, $"{request.Forward}; fwd-status={status}", "detail=stale-if-error");
                ClearResponse(response, result.EarlierHeaders);
                metrics.Record(request.Http, request.Policy.Route, CacheOutcome.StaleIfError);
                CacheLog.StaleIfError(logger, request.Policy.Route, status);
                break;
            default:
                metrics.Record(request.Http, request.Policy.Route, CacheOutcome.Miss);
                return result.Entry is { } entry ? new SharedAnswer(entry, request.Forward, null) : null;
        }

        await CacheResponseWriter.WriteAsync(request.Http, served.Entry, served.Entry.CurrentAge(time.GetUtcNow()), served.Forwarded, served.Detail);
        return served;
    }

    /// <summary>A background refresh: the request is a copy with no client behind it, so only the store sees the answer.</summary>
    public Task RefreshAsync(ResponseCacheContext request) => ForwardAsync(request);

    private bool CanServeOnError(CachedResponse stale) =>
        !stale.MustRevalidate && stale.CurrentAge(time.GetUtcNow()) - stale.FreshnessLifetime < stale.StaleIfError;

    /// <summary>Drops what the backend (or a later stage) put on the response, keeping what earlier stages set.</summary>
    private static void ClearResponse(HttpResponse response, KeyValuePair<string, StringValues>[]? earlierHeaders)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.Headers.Clear();
        foreach (var (name, value) in earlierHeaders ?? [])
        {
            response.Headers[name] = value;
        }

        // The entry answers instead: the errors stage must not turn the forwarding failure into a problem.
        response.HttpContext.Features.Set<IForwarderErrorFeature>(null);
    }

    private enum ForwardOutcome
    {
        /// <summary>Passed on to the client, maybe stored (<see cref="ForwardResult.Entry"/>).</summary>
        Forwarded,

        /// <summary>The backend said 304 to the entry's validators: <see cref="ForwardResult.Entry"/> is the refreshed entry, nothing sent yet.</summary>
        Revalidated,

        /// <summary>The backend failed (5xx, forwarding error, exception) and nothing has been sent yet.</summary>
        Failed,
    }

    /// <param name="StaleAllowed">The stale entry may answer a failure (decided once, when the request was sent).</param>
    /// <param name="EarlierHeaders">Response headers set by earlier stages before forwarding.</param>
    private readonly record struct ForwardResult(ForwardOutcome Outcome, CachedResponse? Entry, bool StaleAllowed = false, KeyValuePair<string, StringValues>[]? EarlierHeaders = null);

    private async Task<ForwardResult> ForwardAsync(ResponseCacheContext request)
    {
        // The capture decision's closure holds what it reads: these parts, not the whole request (whose store, key
        // and entry would make it 24 bytes larger per miss).
        var context = request.Http;
        var policy = request.Policy;
        var requestDirectives = request.RequestDirectives;
        var forward = request.Forward;
        var response = context.Response;
        var headers = context.Request.Headers;

        // Our own validators replace the client's: the client's conditions are checked against what we then serve.
        StringValues clientIfNoneMatch = default, clientIfModifiedSince = default;
        var revalidating = request.Stored is { } validators && (validators.ETag is not null || validators.LastModified is not null);
        if (revalidating)
        {
            clientIfNoneMatch = headers.IfNoneMatch;
            clientIfModifiedSince = headers.IfModifiedSince;
            headers.Remove(HeaderNames.IfNoneMatch);
            headers.Remove(HeaderNames.IfModifiedSince);
            if (request.Stored!.ETag is { } etag)
            {
                headers.IfNoneMatch = etag;
            }

            if (request.Stored.LastModified is { } lastModified)
            {
                headers.IfModifiedSince = lastModified;
            }
        }

        var earlierHeaders = response.Headers.Count == 0 ? null : response.Headers.ToArray();
        var earlierNames = earlierHeaders?.Select(h => h.Key).ToArray();
        var staleAllowed = request.Stored is { } stale && CanServeOnError(stale);
        var requestTime = time.GetUtcNow();
        var storeDecision = default(StoreDecision);
        var failedEarly = false;
        var original = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        var body = new CachingResponseBody(original, capture =>
        {
            var status = response.StatusCode;
            if (revalidating && status == StatusCodes.Status304NotModified)
            {
                return CaptureMode.Discard;
            }

            if (staleAllowed && status >= 500)
            {
                return CaptureMode.Discard;
            }

            storeDecision = CacheStorability.Decide(context, policy, requestDirectives, requestTime, time.GetUtcNow());
            response.Headers[ResponseCacheMiddleware.CacheStatusHeader] = storeDecision.Freshness is null ? "Gatehouse; " + forward
                : response.ContentLength is { } length && length <= policy.MaxEntryBytes ? "Gatehouse; " + forward + "; stored"
                : "Gatehouse; " + forward;
            return storeDecision.Freshness is null ? CaptureMode.PassThrough : CaptureMode.Tee;
        }, policy.MaxEntryBytes);

        context.Features.Set<IHttpResponseBodyFeature>(body);
        try
        {
            await next(context);
        }
        catch (Exception) when (staleAllowed && !response.HasStarted && body.Mode is CaptureMode.Undecided or CaptureMode.Discard && !context.RequestAborted.IsCancellationRequested)
        {
            failedEarly = true;
        }
        finally
        {
            context.Features.Set(original);
            if (revalidating)
            {
                headers.Remove(HeaderNames.IfNoneMatch);
                headers.Remove(HeaderNames.IfModifiedSince);
                if (clientIfNoneMatch.Count > 0)
                {
                    headers.IfNoneMatch = clientIfNoneMatch;
                }

                if (clientIfModifiedSince.Count > 0)
                {
                    headers.IfModifiedSince = clientIfModifiedSince;
                }
            }
        }

        if (failedEarly)
        {
            response.StatusCode = StatusCodes.Status502BadGateway;
            return new ForwardResult(ForwardOutcome.Failed, null, staleAllowed, earlierHeaders);
        }

        if (body.Mode == CaptureMode.Undecided && !response.HasStarted)
        {
            // Never started: an empty body, or a forwarding error the errors stage will write (502/503/504).
            if (response.StatusCode >= 500 || context.Features.Get<IForwarderErrorFeature>() is not null)
            {
                return new ForwardResult(ForwardOutcome.Failed, null, staleAllowed, earlierHeaders);
            }

            body.Decide();
        }

        if (body.Mode == CaptureMode.Discard)
        {
            if (response.StatusCode == StatusCodes.Status304NotModified && request.Stored is { } revalidated)
            {
                var refreshed = CacheEntryBuilder.Refresh(revalidated, response, policy, requestTime, time.GetUtcNow());
                Store(request.Store, refreshed);
                return new ForwardResult(ForwardOutcome.Revalidated, refreshed, staleAllowed, earlierHeaders);
            }

            return new ForwardResult(ForwardOutcome.Failed, null, staleAllowed, earlierHeaders);
        }

        if (body.Mode != CaptureMode.Tee || body.Copy is not { } copy || storeDecision.Freshness is not { } freshness || context.RequestAborted.IsCancellationRequested)
        {
            return new ForwardResult(ForwardOutcome.Forwarded, null);
        }

        var entry = CacheEntryBuilder.Build(request, freshness with { ResponseTime = time.GetUtcNow() }, storeDecision, copy.ToArray(), earlierNames);
        Store(request.Store, entry);
        return new ForwardResult(ForwardOutcome.Forwarded, entry);
    }

    /// <summary>
    /// Not awaited: the client has its answer and coalesced requests get the entry directly; a slow Redis must not
    /// hold the response's end. The store logs and counts its own failures and never throws.
    /// </summary>
    private void Store(ICacheStore store, CachedResponse entry)
    {
        var write = store.SetAsync(entry, time.GetUtcNow());
        if (!write.IsCompleted)
        {
            _ = write.AsTask();
        }
    }
}
