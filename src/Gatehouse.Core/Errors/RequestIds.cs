using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Errors;

/// <summary>
/// <c>X-Request-Id</c>: a well-formed id from the client is kept, otherwise Kestrel's connection-scoped
/// <see cref="HttpContext.TraceIdentifier"/> is used (unique per process start; Kestrel makes the string once).
/// The id goes to the backend and back to the client (<c>GatewayTransformProvider</c>) and into every problem
/// body. The client's request headers are not edited: adding an unknown header makes Kestrel allocate its
/// dictionary for them, which the benchmark showed on every request.
/// </summary>
internal static class RequestIds
{
    public const string HeaderName = "X-Request-Id";

    public static void Apply(HttpContext context)
    {
        var incoming = context.Request.Headers[HeaderName];
        if (incoming.Count == 1 && IsWellFormed(incoming[0]))
        {
            context.TraceIdentifier = incoming[0]!;
        }
    }

    /// <summary>True when the id in force is the client's own (so the copied request header is already right).</summary>
    public static bool IsClientId(HttpContext context) => IsClientId(context.Request.Headers[HeaderName], context.TraceIdentifier);

    /// <summary>The same, for a caller that has looked the client's header up already.</summary>
    public static bool IsClientId(StringValues incoming, string traceIdentifier) =>
        incoming.Count == 1 && ReferenceEquals(incoming[0], traceIdentifier);

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
