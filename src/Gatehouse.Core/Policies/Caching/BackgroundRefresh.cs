using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.Policies.Caching;

/// <summary>
/// stale-while-revalidate: one background request refreshes a stale entry while clients are served it. It runs the
/// rest of the pipeline (the route's forwarding, load balancing, resilience) on a copy of the client's request with
/// no client behind it.
/// </summary>
internal sealed class BackgroundRefresh(ResponseCache cache, IServiceScopeFactory scopes, ILogger logger)
{
    /// <summary>Starts the refresh of <paramref name="request"/>'s stored entry through <paramref name="forwarder"/>, unless one for its key is already running.</summary>
    public void StartOnce(in ResponseCacheContext request, CacheForwarder forwarder)
    {
        if (!cache.Refreshing.TryAdd(request.Key, 0))
        {
            return;
        }

        var context = request.Http;
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
        copy.Features.Set(context.Features.Get<Pipeline.IGatewayRouteFeature>());

        // The client's own directives stay with the client: the refresh asks as a plain request would.
        var refresh = new ResponseCacheContext(copy, request.Policy, request.Store, request.Key, CacheControl.None, request.Stored, "fwd=stale");
        _ = Task.Run(async () =>
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            copy.RequestAborted = timeout.Token;

            // Its own scope: the client request's scope is disposed as soon as the stale answer is sent.
            await using var scope = scopes.CreateAsyncScope();
            copy.RequestServices = scope.ServiceProvider;
            try
            {
                await forwarder.RefreshAsync(refresh);
            }
            catch (Exception e)
            {
                CacheLog.RefreshFailed(logger, refresh.Policy.Route, e);
            }
            finally
            {
                cache.Refreshing.TryRemove(refresh.Key, out _);
            }
        });
    }
}
