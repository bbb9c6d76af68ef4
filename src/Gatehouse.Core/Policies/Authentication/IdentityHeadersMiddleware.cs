using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// Removes what a client must never be able to send a backend: its own copies of every identity header the config
/// writes (<c>forwardClaims</c> targets), the API key (header and query parameter), and, on routes with
/// <c>stripAuthorization</c>, the caller's Authorization header once it has been checked. On every route of a config
/// that uses any identity feature, after authentication (which still needs the key).
/// </summary>
internal sealed class IdentityHeadersMiddleware(RequestDelegate next, IdentityPolicy identity, bool stripAuthorization)
{
    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        if (stripAuthorization)
        {
            headers.Authorization = default;
        }

        foreach (var header in identity.StrippedHeaders)
        {
            headers.Remove(header);
        }

        if (identity.ApiKey.QueryParameter is { } parameter && context.Request.Query.ContainsKey(parameter))
        {
            context.Request.QueryString = WithoutParameter(context.Request.Query, parameter);
        }

        return next(context);
    }

    private static QueryString WithoutParameter(IQueryCollection query, string parameter)
    {
        var builder = new QueryBuilder();
        foreach (var (name, values) in query)
        {
            if (!string.Equals(name, parameter, StringComparison.Ordinal))
            {
                foreach (var value in values)
                {
                    builder.Add(name, value ?? "");
                }
            }
        }

        return builder.ToQueryString();
    }
}
