namespace Gatehouse.Policies.Caching;

/// <summary>
/// Request coalescing: the first request for a key goes to the backend, identical ones arriving meanwhile wait for
/// its answer and are served it (a stored or revalidated entry, or the stale entry it fell back on). When the
/// leader's answer could not be stored, each waiting request asks for itself. When a popular entry expires, its
/// requests so share one revalidation rather than all going to the backend.
/// </summary>
internal sealed class RequestCoalescing(ResponseCache cache, CacheMetrics metrics, TimeProvider time)
{
    /// <summary>Sends the request on through <paramref name="forwarder"/>, or waits for the identical request already there.</summary>
    public async Task FetchAsync(ResponseCacheContext request, CacheForwarder forwarder)
    {
        var leader = new TaskCompletionSource<SharedAnswer?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = cache.InFlight.GetOrAdd(request.Key, leader);
        if (inFlight != leader)
        {
            SharedAnswer? shared;
            try
            {
                shared = await inFlight.Task.WaitAsync(request.Http.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (shared is { } answer && !answer.Entry.NoCache && answer.Entry.VaryMatches(request.Http.Request.Headers))
            {
                metrics.Record(request.Http, request.Policy.Route, CacheOutcome.Collapsed);
                await CacheResponseWriter.WriteAsync(request.Http, answer.Entry, answer.Entry.CurrentAge(time.GetUtcNow()), answer.Forwarded + "; collapsed", answer.Detail);
                return;
            }

            await forwarder.ForwardAndServeAsync(request);
            return;
        }

        SharedAnswer? served = null;
        try
        {
            served = await forwarder.ForwardAndServeAsync(request);
        }
        finally
        {
            cache.InFlight.TryRemove(new KeyValuePair<string, TaskCompletionSource<SharedAnswer?>>(request.Key, leader));
            leader.TrySetResult(served);
        }
    }
}
