using Microsoft.AspNetCore.Http;

namespace Gatehouse.Errors;

/// <summary>
/// <c>X-Request-Id</c>: a well-formed id from the client is kept, otherwise Kestrel's connection-scoped
/// <see cref="HttpContext.TraceIdentifier"/> is used (already unique per process start, and no extra allocation
/// beyond the string Kestrel makes once). The id goes to the backend, back to the client and into every problem body.
/// </summary>
internal static class RequestIds
{
    public const string HeaderName = "X-Request-Id";

    public static void Apply(HttpContext context)
    {
        var headers = context.Request.Headers;
        var incoming = headers[HeaderName];
        if (incoming.Count == 1 && IsWellFormed(incoming[0]))
        {
            context.TraceIdentifier = incoming[0]!;
            return;
        }

        headers[HeaderName] = context.TraceIdentifier;
    }

    /// <summary>Ids are echoed into headers and logs: accept only short visible ASCII, no separators that could split a log line.</summary>
    internal static bool IsWellFormed(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 128)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (c is <= ' ' or >= (char)127 or '"' or '\\' or ',')
            {
                return false;
            }
        }

        return true;
    }
}
