using Microsoft.AspNetCore.Http;

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

        if (identity.ApiKey.QueryParameter is { } parameter && context.Request.QueryString.Value is { Length: > 1 } query)
        {
            var without = WithoutParameter(query, parameter);
            if (!ReferenceEquals(without, query))
            {
                context.Request.QueryString = without.Length == 0 ? QueryString.Empty : new QueryString(without);
            }
        }

        return next(context);
    }

    /// <summary>
    /// <paramref name="query"/> (with its <c>?</c>) without every parameter named <paramref name="parameter"/> as
    /// <see cref="HttpRequest.Query"/> reads names (percent- and <c>+</c>-decoded, case-insensitive), since that is
    /// how authentication found the key: <c>API_KEY</c> and <c>api%5Fkey</c> are the same parameter. The same
    /// instance when there is none (nothing allocated: this runs on every route of a config that uses identity); the
    /// other parameters are kept as sent, never re-encoded.
    /// </summary>
    internal static string WithoutParameter(string query, string parameter)
    {
        var text = query.AsSpan(1);
        if (text.IndexOfAny('%', '+') < 0 && !text.Contains(parameter, StringComparison.OrdinalIgnoreCase))
        {
            return query;
        }

        System.Text.StringBuilder? kept = null;
        foreach (var range in text.Split('&'))
        {
            var segment = text[range];
            var equals = segment.IndexOf('=');
            if (IsNamed(equals < 0 ? segment : segment[..equals], parameter))
            {
                if (kept is null)
                {
                    // Everything before the first removed parameter, as sent, without its trailing '&'.
                    var start = 1 + range.Start.GetOffset(text.Length);
                    kept = new System.Text.StringBuilder(query.Length).Append(query.AsSpan(0, start > 1 ? start - 1 : start));
                }
            }
            else if (kept is not null)
            {
                (kept.Length > 1 ? kept.Append('&') : kept).Append(segment);
            }
        }

        return kept is null ? query : kept.Length <= 1 ? "" : kept.ToString();
    }

    private static bool IsNamed(ReadOnlySpan<char> name, string parameter)
    {
        if (name.IndexOfAny('%', '+') < 0)
        {
            return name.Equals(parameter, StringComparison.OrdinalIgnoreCase);
        }

        var decoded = Uri.UnescapeDataString(name.ToString().Replace('+', ' '));
        return decoded.Equals(parameter, StringComparison.OrdinalIgnoreCase);
    }
}
