using System.Buffers;
using Gatehouse.Errors;
using Gatehouse.Policies.Authentication;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// The route's response cache, an RFC 9111 shared cache: after authentication and rate limiting (a cached answer
/// is still only given to callers the route admits, and still counted), before forwarding.
/// </summary>
/// <remarks>
/// Not ASP.NET Core's OutputCaching middleware: its policies decide storability from the server's point of view and
/// ignore the backend's Cache-Control (it is written for an app caching its own output), it does not compute Age per
/// RFC 9111 4.2.3, has no stale-while-revalidate or stale-if-error, and does not revalidate with validators.
/// </remarks>
internal sealed partial class ResponseCacheMiddleware(
    RequestDelegate next, ResponseCache cache, CacheMetrics metrics, TimeProvider time, IServiceScopeFactory scopes, ILogger<ResponseCacheMiddleware> logger)
{
    public const string CacheStatusHeader = "Cache-Status";

    private static readonly CacheControl NoDirectives = CacheControl.Parse(default);

    /// <summary>
    /// Response headers never stored: per hop, per request, or the cache's own. Nor are the request's
    /// <see cref="DeferredResponseHeaders"/> (added after the backend's headers, they belong to this request).
    /// </summary>
    private static readonly HashSet<string> UnstoredHeaders = new(
    [
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authentication-Info", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Content-Length", "Age", CacheStatusHeader, RequestIds.HeaderName, "Set-Cookie",
    ], StringComparer.OrdinalIgnoreCase);

    public Task InvokeAsync(HttpContext context)
    {
        var route = context.GetEndpoint()?.Metadata.GetMetadata<CompiledRoute>();
        if (route?.Cache is not { Attached: { } store } policy)
        {
            return next(context);
        }

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
            Finish(context, policy, CacheOutcome.Bypass);
            return next(context);
        }

        var requestDirectives = RequestDirectives(request.Headers);
        if (store is MemoryCacheStore memory && !requestDirectives.NoCache && requestDirectives.MaxAge < 0 && requestDirectives.MinFresh < 0)
        {
            // The hot path: a fresh memory entry, no key string, no await until the body write.
            if (memory.TryGet(buffer.AsSpan(0, length), out var entry) && !entry!.NoCache && VaryMatches(entry, request.Headers))
            {
                var age = entry.CurrentAge(time.GetUtcNow());
                if (age < entry.FreshnessLifetime)
                {
                    ArrayPool<char>.Shared.Return(buffer!);
                    Finish(context, policy, CacheOutcome.Hit);
                    return WriteEntryAsync(context, entry, age, null);
                }
            }
        }

        var key = new string(buffer!, 0, length);
        ArrayPool<char>.Shared.Return(buffer!);
        return HandleAsync(context, policy, store, key, requestDirectives, isGet);
    }

    private static CacheControl RequestDirectives(IHeaderDictionary headers)
    {
        var cacheControl = headers.CacheControl;
        if (cacheControl.Count > 0)
        {
            return CacheControl.Parse(cacheControl);
        }

        // RFC 9111 5.4: Pragma: no-cache counts only when there is no Cache-Control.
        if (headers.Pragma.Count > 0 && headers.Pragma.ToString().Contains("no-cache", StringComparison.OrdinalIgnoreCase))
        {
            var result = NoDirectives;
            result.NoCache = true;
            return result;
        }

        return NoDirectives;
    }

    private async Task HandleAsync(HttpContext context, CachePolicy policy, ICacheStore store, string key, CacheControl requestDirectives, bool isGet)
    {
        var request = context.Request;
        var entry = await store.GetAsync(key);

        // RFC 9211 forward reasons: nothing stored for this URI, or a stored response whose Vary does not match.
        var miss = "fwd=uri-miss";
        if (entry is not null && !VaryMatches(entry, request.Headers))
        {
            entry = null;
            miss = "fwd=vary-miss";
        }

        var now = time.GetUtcNow();
        if (entry is not null)
        {
            var age = entry.CurrentAge(now);
            var revalidate = requestDirectives.NoCache || entry.NoCache;
            var fresh = age < entry.FreshnessLifetime
                && (requestDirectives.MaxAge < 0 || age <= TimeSpan.FromSeconds(requestDirectives.MaxAge))
                && (requestDirectives.MinFresh < 0 || entry.FreshnessLifetime - age >= TimeSpan.FromSeconds(requestDirectives.MinFresh));
            if (fresh && !revalidate)
            {
                Finish(context, policy, CacheOutcome.Hit);
                await WriteEntryAsync(context, entry, age);
                return;
            }

            // RFC 9111 5.2.1.2: the client accepts a stale answer (never one the backend said to revalidate).
            var staleness = age - entry.FreshnessLifetime;
            if (!revalidate && !entry.MustRevalidate && requestDirectives.MaxStale >= 0
                && (requestDirectives.MaxStale == long.MaxValue || staleness <= TimeSpan.FromSeconds(requestDirectives.MaxStale)))
            {
                Finish(context, policy, CacheOutcome.Hit);
                await WriteEntryAsync(context, entry, age, detail: "detail=max-stale");
                return;
            }

            if (requestDirectives.OnlyIfCached)
            {
                await OnlyIfCachedAsync(context, policy);
                return;
            }

            if (!isGet)
            {
                // A HEAD on a stale entry goes on as it is: its bodiless answer must not replace the GET's entry.
                Finish(context, policy, CacheOutcome.Miss);
                context.Response.Headers[CacheStatusHeader] = "Gatehouse; fwd=stale";
                await next(context);
                return;
            }

            if (!revalidate && !entry.MustRevalidate && age - entry.FreshnessLifetime < entry.StaleWhileRevalidate && requestDirectives.MaxAge < 0)
            {
                if (cache.Refreshing.TryAdd(key, 0))
                {
                    StartRefresh(context, policy, store, key, entry);
                }

                Finish(context, policy, CacheOutcome.StaleWhileRevalidate);
                await WriteEntryAsync(context, entry, age, detail: "detail=stale-while-revalidate");
                return;
            }

            // Stale (or revalidation asked for): ask the backend with the entry's validators. When a popular entry
            // expires, its requests share one revalidation rather than all going to the backend.
            if (requestDirectives.NoCache)
            {
                await ForwardAndServeAsync(context, policy, store, key, entry, requestDirectives, "fwd=request");
            }
            else
            {
                await CoalescedAsync(context, policy, store, key, entry, requestDirectives, "fwd=stale");
            }

            return;
        }

        var conditional = request.Headers.IfNoneMatch.Count > 0 || request.Headers.IfModifiedSince.Count > 0 || request.Headers.Range.Count > 0;
        if (!isGet || conditional || requestDirectives.OnlyIfCached)
        {
            if (requestDirectives.OnlyIfCached)
            {
                await OnlyIfCachedAsync(context, policy);
                return;
            }

            // HEAD and conditional or range misses go on as they are and are not stored (a 304 or 206 is no entry).
            Finish(context, policy, CacheOutcome.Miss);
            context.Response.Headers[CacheStatusHeader] = "Gatehouse; " + miss;
            await next(context);
            return;
        }

        await CoalescedAsync(context, policy, store, key, null, requestDirectives, miss);
    }

    /// <summary>
    /// Request coalescing: the first request for the key goes to the backend, identical ones arriving meanwhile wait
    /// for its answer and are served it (a stored or revalidated entry, or the stale entry it fell back on). When the
    /// leader's answer could not be stored, each waiting request asks for itself.
    /// </summary>
    private async Task CoalescedAsync(HttpContext context, CachePolicy policy, ICacheStore store, string key, CachedResponse? stale, CacheControl requestDirectives, string forward)
    {
        var leader = new TaskCompletionSource<SharedAnswer?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = cache.InFlight.GetOrAdd(key, leader);
        if (inFlight != leader)
        {
            SharedAnswer? shared;
            try
            {
                shared = await inFlight.Task.WaitAsync(context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (shared is { } answer && !answer.Entry.NoCache && VaryMatches(answer.Entry, context.Request.Headers))
            {
                Finish(context, policy, CacheOutcome.Collapsed);
                await WriteEntryAsync(context, answer.Entry, answer.Entry.CurrentAge(time.GetUtcNow()), forwarded: answer.Forwarded + "; collapsed", detail: answer.Detail);
                return;
            }

            await ForwardAndServeAsync(context, policy, store, key, stale, requestDirectives, forward);
            return;
        }

        SharedAnswer? served = null;
        try
        {
            served = await ForwardAndServeAsync(context, policy, store, key, stale, requestDirectives, forward);
        }
        finally
        {
            cache.InFlight.TryRemove(new KeyValuePair<string, TaskCompletionSource<SharedAnswer?>>(key, leader));
            leader.TrySetResult(served);
        }
    }

    /// <summary>What a coalesced request's leader served, for the requests that waited: the entry and its Cache-Status parts.</summary>
    internal sealed record SharedAnswer(CachedResponse Entry, string Forwarded, string? Detail);

    /// <summary>RFC 9111 5.2.1.7: nothing usable is stored, so 504 without asking the backend.</summary>
    private Task OnlyIfCachedAsync(HttpContext context, CachePolicy policy)
    {
        Finish(context, policy, CacheOutcome.Miss);
        context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
        context.Response.Headers[CacheStatusHeader] = "Gatehouse; fwd=uri-miss; detail=only-if-cached";
        return Task.CompletedTask;
    }

    /// <summary>Forwards, keeping a copy to store; serves the stale entry instead when the backend fails within stale-if-error, or the refreshed entry on a 304.</summary>
    private async Task<SharedAnswer?> ForwardAndServeAsync(
        HttpContext context, CachePolicy policy, ICacheStore store, string key, CachedResponse? stale, CacheControl requestDirectives, string forward)
    {
        var result = await ForwardAsync(context, policy, store, key, stale, requestDirectives, forward);
        var response = context.Response;
        switch (result.Outcome)
        {
            case ForwardOutcome.Revalidated:
                ClearResponse(response, result.EarlierHeaders);
                Finish(context, policy, CacheOutcome.Revalidated);
                await WriteEntryAsync(context, result.Entry!, result.Entry!.CurrentAge(time.GetUtcNow()), forwarded: forward + "; fwd-status=304");
                return new SharedAnswer(result.Entry!, forward + "; fwd-status=304", null);
            case ForwardOutcome.Failed when stale is not null && result.StaleAllowed:
                var status = response.StatusCode;
                ClearResponse(response, result.EarlierHeaders);
                Finish(context, policy, CacheOutcome.StaleIfError);
                LogStaleIfError(logger, policy.Route, status);
                await WriteEntryAsync(context, stale, stale.CurrentAge(time.GetUtcNow()), forwarded: $"{forward}; fwd-status={status}", detail: "detail=stale-if-error");
                return new SharedAnswer(stale, $"{forward}; fwd-status={status}", "detail=stale-if-error");
            default:
                Finish(context, policy, CacheOutcome.Miss);
                return result.Entry is { } entry ? new SharedAnswer(entry, forward, null) : null;
        }
    }

    private bool CanServeOnError(CachedResponse stale) =>
        !stale.MustRevalidate && stale.CurrentAge(time.GetUtcNow()) - stale.FreshnessLifetime < stale.StaleIfError;

    /// <summary>Drops what the backend (or a later stage) put on the response, keeping what earlier stages set (rate-limit fields).</summary>
    private static void ClearResponse(HttpResponse response, KeyValuePair<string, StringValues>[]? earlierHeaders)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.Headers.Clear();
        foreach (var (name, value) in earlierHeaders ?? [])
        {
            response.Headers[name] = value;
        }

        // The entry answers instead: the errors stage must not turn the forwarding failure into a problem.
        response.HttpContext.Features.Set<Yarp.ReverseProxy.Forwarder.IForwarderErrorFeature>(null);
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

    /// <summary>
    /// Sends the request on with <see cref="CachingResponseBody"/> in place of the response body. Used by client
    /// requests and by background refreshes (whose context is a copy with no client behind it).
    /// </summary>
    private async Task<ForwardResult> ForwardAsync(
        HttpContext context, CachePolicy policy, ICacheStore store, string key, CachedResponse? stale, CacheControl requestDirectives, string forward)
    {
        var request = context.Request;
        var response = context.Response;
        var headers = request.Headers;

        // Our own validators replace the client's: the client's conditions are checked against what we then serve.
        StringValues clientIfNoneMatch = default, clientIfModifiedSince = default;
        var revalidating = stale is not null && (stale.ETag is not null || stale.LastModified is not null);
        if (revalidating)
        {
            clientIfNoneMatch = headers.IfNoneMatch;
            clientIfModifiedSince = headers.IfModifiedSince;
            headers.Remove(HeaderNames.IfNoneMatch);
            headers.Remove(HeaderNames.IfModifiedSince);
            if (stale!.ETag is { } etag)
            {
                headers.IfNoneMatch = etag;
            }

            if (stale.LastModified is { } lastModified)
            {
                headers.IfModifiedSince = lastModified;
            }
        }

        var earlierHeaders = response.Headers.Count == 0 ? null : response.Headers.ToArray();
        var existingHeaders = earlierHeaders?.Select(h => h.Key).ToArray();
        var staleAllowed = stale is not null && CanServeOnError(stale);
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

            storeDecision = Storable(context, policy, requestDirectives, requestTime);
            response.Headers[CacheStatusHeader] = storeDecision.Freshness is null ? "Gatehouse; " + forward
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
            if (response.StatusCode >= 500 || context.Features.Get<Yarp.ReverseProxy.Forwarder.IForwarderErrorFeature>() is not null)
            {
                return new ForwardResult(ForwardOutcome.Failed, null, staleAllowed, earlierHeaders);
            }

            body.Decide();
        }

        if (body.Mode == CaptureMode.Discard)
        {
            if (response.StatusCode == StatusCodes.Status304NotModified && stale is not null)
            {
                var refreshed = Refresh(stale, response, policy, requestTime);
                Store(store, refreshed);
                return new ForwardResult(ForwardOutcome.Revalidated, refreshed, staleAllowed, earlierHeaders);
            }

            return new ForwardResult(ForwardOutcome.Failed, null, staleAllowed, earlierHeaders);
        }

        if (body.Mode != CaptureMode.Tee || body.Copy is not { } copy || storeDecision.Freshness is not { } freshness || context.RequestAborted.IsCancellationRequested)
        {
            return new ForwardResult(ForwardOutcome.Forwarded, null);
        }

        var entry = BuildEntry(context, key, policy, freshness with { ResponseTime = time.GetUtcNow() }, storeDecision, copy.ToArray(), existingHeaders);

        Store(store, entry);
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

    private readonly record struct StoreDecision(Freshness? Freshness, string[] VaryNames);

    /// <summary>RFC 9111 section 3 (may a shared cache store this?) plus the route's limits; decided when the response starts.</summary>
    private StoreDecision Storable(HttpContext context, CachePolicy policy, CacheControl requestDirectives, DateTimeOffset requestTime)
    {
        var response = context.Response;
        var headers = response.Headers;
        var status = response.StatusCode;
        if (requestDirectives.NoStore || status is < 200 or 206 or 304 or >= 600 || headers.SetCookie.Count > 0 || headers.ContentRange.Count > 0)
        {
            return default;
        }

        if (response.ContentLength is { } length && length > policy.MaxEntryBytes)
        {
            return default;
        }

        var directives = CacheControl.Parse(headers.CacheControl);
        if (directives.NoStore || directives.Private)
        {
            return default;
        }

        // RFC 9111 3.5: an answer to an authenticated request is shared only when the backend says so; or kept per
        // consumer when the route keys by consumer.
        var authenticated = context.Request.Headers.Authorization.Count > 0 || context.User is CallerPrincipal;
        if (authenticated && !policy.KeyByConsumer && !directives.Public && directives.SharedMaxAge < 0)
        {
            return default;
        }

        var varyNames = Array.Empty<string>();
        var vary = headers.Vary;
        if (vary.Count > 0)
        {
            var names = new List<string>();
            foreach (var value in vary)
            {
                foreach (var part in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (part == "*")
                    {
                        return default;
                    }

                    if (!Array.Exists(policy.HeaderNames, h => h.Equals(part, StringComparison.OrdinalIgnoreCase)) && !names.Contains(part, StringComparer.OrdinalIgnoreCase))
                    {
                        names.Add(part);
                    }
                }
            }

            varyNames = names.ToArray();
        }

        var date = headers.Date.Count > 0 && HeaderUtilities.TryParseDate(headers.Date.ToString(), out var parsed) ? parsed : (DateTimeOffset?)null;
        var freshness = Freshness.Compute(directives, status, date, headers.Expires, headers.Age, requestTime, time.GetUtcNow(), policy);
        if (freshness is not { } f)
        {
            return default;
        }

        // Nothing to gain from an entry that is stale at once and can neither be revalidated nor serve on errors.
        if (f.Lifetime <= f.InitialAge && headers.ETag.Count == 0 && headers.LastModified.Count == 0 && f.StaleIfError == TimeSpan.Zero && f.StaleWhileRevalidate == TimeSpan.Zero)
        {
            return default;
        }

        return new StoreDecision(f, varyNames);
    }

    private static CachedResponse BuildEntry(HttpContext context, string key, CachePolicy policy, Freshness freshness, StoreDecision decision, byte[] body, string[]? existingHeaders)
    {
        var response = context.Response;
        var request = context.Request;
        var names = new List<string>(response.Headers.Count);
        var values = new List<StringValues>(response.Headers.Count);
        long size = body.Length + key.Length * 2 + 256;
        var deferred = context.Features.Get<DeferredResponseHeaders>();
        foreach (var (name, value) in response.Headers)
        {
            // Headers an earlier stage set, before forwarding or deferred, belong to this request, not to the stored answer.
            if (UnstoredHeaders.Contains(name) || deferred?.Holds(name) == true || (existingHeaders is not null && Array.IndexOf(existingHeaders, name) >= 0))
            {
                continue;
            }

            names.Add(name);
            values.Add(value);
            size += name.Length + value.ToString().Length + 16;
        }

        var tags = response.Headers[policy.Options.TagHeader] is { Count: > 0 } tagHeader
            ? tagHeader.ToString().Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)
            : [];
        var varyValues = new string[decision.VaryNames.Length];
        for (var i = 0; i < varyValues.Length; i++)
        {
            varyValues[i] = request.Headers[decision.VaryNames[i]].ToString();
        }

        return new CachedResponse
        {
            Key = key,
            Status = response.StatusCode,
            HeaderNames = names.ToArray(),
            HeaderValues = values.ToArray(),
            Body = body,
            Freshness = freshness,
            ETag = response.Headers.ETag.Count > 0 ? response.Headers.ETag.ToString() : null,
            LastModified = response.Headers.LastModified.Count > 0 ? response.Headers.LastModified.ToString() : null,
            VaryNames = decision.VaryNames,
            VaryValues = varyValues,
            Tags = tags,
            Origin = request.Scheme + "://" + (request.Host.Value ?? "").ToLowerInvariant(),
            Path = request.PathBase.Add(request.Path).Value ?? "/",
            Size = size,
        };
    }

    /// <summary>RFC 9111 4.3.4: a 304 freshens the stored entry; its headers (but not Content-*) replace the stored ones.</summary>
    private CachedResponse Refresh(CachedResponse stale, HttpResponse response, CachePolicy policy, DateTimeOffset requestTime)
    {
        var headers = response.Headers;
        var directives = CacheControl.Parse(headers.CacheControl);
        var date = headers.Date.Count > 0 && HeaderUtilities.TryParseDate(headers.Date.ToString(), out var parsed) ? parsed : (DateTimeOffset?)null;
        var freshness = Freshness.Compute(directives, stale.Status, date, headers.Expires, headers.Age, requestTime, time.GetUtcNow(), policy)
            ?? new Freshness(requestTime, time.GetUtcNow(), TimeSpan.Zero, policy.Ttl, policy.StaleWhileRevalidate, policy.StaleIfError, false, false);
        var updated = new List<KeyValuePair<string, StringValues>>();
        var deferred = response.HttpContext.Features.Get<DeferredResponseHeaders>();
        foreach (var (name, value) in headers)
        {
            if (!UnstoredHeaders.Contains(name) && deferred?.Holds(name) != true && !name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) && !name.Equals(CacheStatusHeader, StringComparison.OrdinalIgnoreCase))
            {
                updated.Add(new(name, value));
            }
        }

        return stale.Refreshed(freshness, updated);
    }

    private static bool VaryMatches(CachedResponse entry, IHeaderDictionary headers)
    {
        for (var i = 0; i < entry.VaryNames.Length; i++)
        {
            if (!string.Equals(headers[entry.VaryNames[i]].ToString(), entry.VaryValues[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Writes a stored entry: status, stored headers, Age, Cache-Status, then the body in one write (or 304 when the
    /// client's validators match). <paramref name="forwarded"/>: the request went to the backend (Cache-Status then
    /// says <c>fwd=...</c> instead of <c>hit</c>, RFC 9211).
    /// </summary>
    private static Task WriteEntryAsync(HttpContext context, CachedResponse entry, TimeSpan age, string? forwarded = null, string? detail = null)
    {
        var response = context.Response;
        var headers = response.Headers;
        var notModified = NotModified(context.Request.Headers, entry);
        response.StatusCode = notModified ? StatusCodes.Status304NotModified : entry.Status;
        var names = entry.HeaderNames;
        var values = entry.HeaderValues;
        for (var i = 0; i < names.Length; i++)
        {
            if (notModified && names[i].StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            headers[names[i]] = values[i];
        }

        var stamp = entry.Stamp((long)age.TotalSeconds);
        headers.Age = stamp.Age;
        headers[CacheStatusHeader] = forwarded is not null
            ? $"Gatehouse; {forwarded}; ttl={(long)Math.Floor((entry.FreshnessLifetime - age).TotalSeconds)}" + (detail is null ? "" : "; " + detail)
            : detail is null ? stamp.CacheStatus : stamp.CacheStatus + "; " + detail;
        headers[RequestIds.HeaderName] = context.TraceIdentifier;
        context.Features.Get<DeferredResponseHeaders>()?.Apply(headers);
        if (notModified || HttpMethods.IsHead(context.Request.Method))
        {
            if (!notModified)
            {
                headers[HeaderNames.ContentLength] = entry.ContentLengthText;
            }

            return Task.CompletedTask;
        }

        // Text formatted once per entry: Kestrel parses it into its numeric slot without allocating.
        headers[HeaderNames.ContentLength] = entry.ContentLengthText;
        if (entry.Body.Length == 0)
        {
            return Task.CompletedTask;
        }

        // The body pipe takes the whole body at once (no Task allocated when the write completes synchronously, as it
        // does while the connection's output buffer has room).
        var write = response.BodyWriter.WriteAsync(entry.Body, context.RequestAborted);
        return write.IsCompletedSuccessfully ? Task.CompletedTask : write.AsTask();
    }

    /// <summary>RFC 9110 13.1.2 / 13.1.3: If-None-Match (weak comparison) wins over If-Modified-Since.</summary>
    private static bool NotModified(IHeaderDictionary request, CachedResponse entry)
    {
        if (entry.Status != StatusCodes.Status200OK)
        {
            return false;
        }

        var ifNoneMatch = request.IfNoneMatch;
        if (ifNoneMatch.Count > 0)
        {
            if (entry.ETag is null)
            {
                return false;
            }

            var stored = Opaque(entry.ETag);
            foreach (var value in ifNoneMatch)
            {
                foreach (var tag in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (tag == "*" || Opaque(tag).SequenceEqual(stored))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        if (request.IfModifiedSince.Count > 0 && HeaderUtilities.TryParseDate(request.IfModifiedSince.ToString(), out var since))
        {
            var lastModified = entry.LastModified ?? null;
            return lastModified is not null && HeaderUtilities.TryParseDate(lastModified, out var modified) && modified <= since;
        }

        return false;
    }

    private static ReadOnlySpan<char> Opaque(string tag) => tag.StartsWith("W/", StringComparison.Ordinal) ? tag.AsSpan(2) : tag.AsSpan();

    private void Finish(HttpContext context, CachePolicy policy, CacheOutcome outcome)
    {
        context.Features.Set<ICacheOutcomeFeature>(outcome switch
        {
            CacheOutcome.Hit => CacheOutcomeFeature.Hit,
            CacheOutcome.Bypass => CacheOutcomeFeature.Bypass,
            _ => new CacheOutcomeFeature(outcome),
        });
        metrics.Counted(policy.Route, outcome);
        if (Observability.GatewayRequestTelemetry.Of(context) is { } telemetry)
        {
            telemetry.CacheStatus = CacheMetrics.Name(outcome);
        }
    }

    /// <summary>
    /// stale-while-revalidate: one background request refreshes the entry. It runs the rest of the pipeline (the
    /// route's forwarding, load balancing, resilience) on a copy of this request with no client behind it.
    /// </summary>
    private void StartRefresh(HttpContext context, CachePolicy policy, ICacheStore store, string key, CachedResponse stale)
    {
        var copy = new DefaultHttpContext();
        var source = context.Request;
        var target = copy.Request;
        target.Method = HttpMethods.Get;
        target.Scheme = source.Scheme;
        target.Host = source.Host;
        target.PathBase = source.PathBase;
        target.Path = source.Path;
        target.QueryString = source.QueryString;
        target.Protocol = source.Protocol;
        foreach (var (name, value) in source.Headers)
        {
            if (!name.Equals(HeaderNames.IfNoneMatch, StringComparison.OrdinalIgnoreCase) && !name.Equals(HeaderNames.IfModifiedSince, StringComparison.OrdinalIgnoreCase)
                && !name.Equals(HeaderNames.CacheControl, StringComparison.OrdinalIgnoreCase) && !name.Equals(HeaderNames.Pragma, StringComparison.OrdinalIgnoreCase))
            {
                target.Headers[name] = value;
            }
        }

        copy.Connection.RemoteIpAddress = context.Connection.RemoteIpAddress;
        copy.Connection.RemotePort = context.Connection.RemotePort;
        copy.Connection.LocalIpAddress = context.Connection.LocalIpAddress;
        copy.Connection.LocalPort = context.Connection.LocalPort;
        copy.User = context.User;
        copy.TraceIdentifier = context.TraceIdentifier + ":refresh";
        copy.SetEndpoint(context.GetEndpoint());
        _ = Task.Run(async () =>
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            copy.RequestAborted = timeout.Token;

            // Its own scope: the client request's scope is disposed as soon as the stale answer is sent.
            await using var scope = scopes.CreateAsyncScope();
            copy.RequestServices = scope.ServiceProvider;
            try
            {
                await ForwardAsync(copy, policy, store, key, stale, NoDirectives, "fwd=stale");
            }
            catch (Exception e)
            {
                LogRefreshFailed(logger, policy.Route, e);
            }
            finally
            {
                cache.Refreshing.TryRemove(key, out _);
            }
        });
    }

    [LoggerMessage(EventId = 1601, Level = LogLevel.Information, Message = "Route {Route}: the backend answered {Status}; served a stale entry (stale-if-error)")]
    private static partial void LogStaleIfError(ILogger logger, string route, int status);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Warning, Message = "Route {Route}: background refresh of a stale entry failed")]
    private static partial void LogRefreshFailed(ILogger logger, string route, Exception exception);
}

/// <summary>What the cache did with this request, for the access log and tests; set once per cached route's request.</summary>
internal interface ICacheOutcomeFeature
{
    CacheOutcome Outcome { get; }
}

internal sealed class CacheOutcomeFeature(CacheOutcome outcome) : ICacheOutcomeFeature
{
    public static readonly CacheOutcomeFeature Hit = new(CacheOutcome.Hit);
    public static readonly CacheOutcomeFeature Bypass = new(CacheOutcome.Bypass);

    public CacheOutcome Outcome { get; } = outcome;
}
