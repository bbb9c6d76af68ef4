using System.Text;

namespace Gatehouse.Policies.Transcoding;

/// <summary>gRPC status codes both ways: the gateway's own refusals told to gRPC clients, and backend statuses told to REST clients.</summary>
internal static class GrpcStatusCodes
{
    public const int Ok = 0;
    public const int Unknown = 2;
    public const int InvalidArgument = 3;
    public const int DeadlineExceeded = 4;
    public const int PermissionDenied = 7;
    public const int ResourceExhausted = 8;
    public const int Unimplemented = 12;
    public const int Internal = 13;
    public const int Unavailable = 14;
    public const int Unauthenticated = 16;

    private static readonly string[] Numbers = Enumerable.Range(0, 17).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The gRPC code a gateway refusal with this HTTP status means (as Envoy answers gRPC callers it refuses).</summary>
    public static int FromGatewayStatus(int httpStatus) => httpStatus switch
    {
        400 or 414 or 431 => InvalidArgument,
        401 => Unauthenticated,
        403 => PermissionDenied,
        404 or 405 => Unimplemented,
        408 or 504 => DeadlineExceeded,

        // Too much of something the caller controls: gRPC's RESOURCE_EXHAUSTED (clients retry UNAVAILABLE blindly).
        413 or 429 => ResourceExhausted,
        502 or 503 => Unavailable,
        500 => Internal,
        _ => Unknown,
    };

    /// <summary>The HTTP status for a gRPC code: the standard mapping of google.rpc.Code (google/rpc/code.proto).</summary>
    public static int ToHttpStatus(int code) => code switch
    {
        0 => 200,
        1 => 499,   // CANCELLED
        2 => 500,   // UNKNOWN
        3 => 400,   // INVALID_ARGUMENT
        4 => 504,   // DEADLINE_EXCEEDED
        5 => 404,   // NOT_FOUND
        6 => 409,   // ALREADY_EXISTS
        7 => 403,   // PERMISSION_DENIED
        8 => 429,   // RESOURCE_EXHAUSTED
        9 => 400,   // FAILED_PRECONDITION
        10 => 409,  // ABORTED
        11 => 400,  // OUT_OF_RANGE
        12 => 501,  // UNIMPLEMENTED
        13 => 500,  // INTERNAL
        14 => 503,  // UNAVAILABLE
        15 => 500,  // DATA_LOSS
        16 => 401,  // UNAUTHENTICATED
        _ => 500,
    };

    public static string ToText(int code) => (uint)code < (uint)Numbers.Length ? Numbers[code] : code.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>grpc-message is percent-encoded UTF-8 (gRPC over HTTP/2 spec): bytes outside printable ASCII and '%' are escaped.</summary>
    public static string EncodeMessage(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var builder = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>Undoes <see cref="EncodeMessage"/>; malformed escapes are kept as they are, as the spec asks.</summary>
    public static string DecodeMessage(string value)
    {
        if (!value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }

        var bytes = new List<byte>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && i + 2 < value.Length && byte.TryParse(value.AsSpan(i + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(value[i].ToString()));
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>A gRPC call, as opposed to REST (a transcoded REST call looks like gRPC by now, but its client reads JSON).</summary>
    public static bool IsGrpcRequest(Microsoft.AspNetCore.Http.HttpContext context) =>
        context.Request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase)
        && !type.StartsWith("application/grpc-web", StringComparison.OrdinalIgnoreCase)
        && context.Features.Get<GrpcTranscodingFeature>() is null;

    /// <summary>The canonical names (google/rpc/code.proto), as REST clients see them in error bodies.</summary>
    public static readonly string[] Names =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];
}
