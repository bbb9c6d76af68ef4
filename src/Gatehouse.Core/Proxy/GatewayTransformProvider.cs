using Gatehouse.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gatehouse.Proxy;

/// <summary>
/// Transforms every route gets. YARP drops the fixed hop-by-hop headers but not the ones a message names in its
/// <c>Connection</c> header (RFC 9110 7.6.1), so this removes those in both directions. It also puts the request
/// id on the forwarded request and on the response, replacing any the backend sent (YARP appends backend
/// headers to existing ones).
/// Known gap: Kestrel rewrites a request's Connection header to the bare option when it holds exactly one of
/// keep-alive, close or upgrade (<c>keep-alive, X-Foo</c> reaches the app as <c>keep-alive</c>), so headers
/// nominated beside a single such option cannot be seen here.
/// </summary>
internal sealed class GatewayTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        // First, before the route's own header edits and the X-Forwarded-* transforms: a client must not be able
        // to strip what the gateway adds by naming it in Connection (hop-by-hop header abuse).
        context.RequestTransforms.Insert(0, new RequestFuncTransform(static transform =>
        {
            var httpContext = transform.HttpContext;
            var connection = httpContext.Request.Headers.Connection;
            if (connection.Count > 0)
            {
                RemoveNominated(connection, transform, static (t, name) => RequestTransform.RemoveHeader(t, name));
            }

            // The client sent none, one that was not well-formed, or named it in Connection: the backend gets the
            // gateway's. One lookup: the client's id is in force exactly when it is the string the request carries.
            var incoming = httpContext.Request.Headers[RequestIds.HeaderName];
            if (connection.Count > 0 || !RequestIds.IsClientId(incoming, httpContext.TraceIdentifier))
            {
                if (incoming.Count > 0)
                {
                    RequestTransform.RemoveHeader(transform, RequestIds.HeaderName);
                }

                transform.ProxyRequest.Headers.TryAddWithoutValidation(RequestIds.HeaderName, httpContext.TraceIdentifier);
            }

            return ValueTask.CompletedTask;
        }));

        context.AddResponseTransform(static transform =>
        {
            var response = transform.HttpContext.Response;
            if (transform.ProxyResponse?.Headers.NonValidated.TryGetValues("Connection", out var values) == true)
            {
                foreach (var value in values)
                {
                    RemoveNominated(value, response.Headers, static (headers, name) => headers.Remove(name));
                }
            }

            response.Headers[RequestIds.HeaderName] = transform.HttpContext.TraceIdentifier;
            return ValueTask.CompletedTask;
        });
    }

    /// <summary>Calls <paramref name="remove"/> for each header token in a Connection value, skipping the common no-op ones.</summary>
    internal static void RemoveNominated<TState>(StringValues connection, TState state, Action<TState, string> remove)
    {
        foreach (var value in connection)
        {
            if (value is null || value.Equals("keep-alive", StringComparison.OrdinalIgnoreCase) || value.Equals("close", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var range in value.AsSpan().Split(','))
            {
                var token = value.AsSpan()[range].Trim();
                if (token.Length == 0 || token.Equals("keep-alive", StringComparison.OrdinalIgnoreCase)
                    || token.Equals("close", StringComparison.OrdinalIgnoreCase) || token.Equals("upgrade", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                remove(state, token.ToString());
            }
        }
    }
}
