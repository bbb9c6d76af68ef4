using Microsoft.AspNetCore.Http;

namespace Gatehouse.Policies.RateLimiting;

/// <summary>
/// The <c>RateLimit-Policy</c> / <c>RateLimit</c> fields (and the legacy <c>X-RateLimit-*</c> ones) of an admitted
/// request, held as a typed feature until the response is made: added after the backend's own headers by
/// <see cref="RateLimitTransformProvider"/>, or by the cache stage when it answers from its store. Not set on the
/// response before forwarding, as the first version did: measured in bench/ratelimit.sh, two fields set there cost
/// ~3% of a proxied request's CPU, the same two fields set after the backend's headers nothing measurable (the cause
/// inside the forwarding path was not found; see docs/benchmarks.md).
/// </summary>
internal sealed class RateLimitFields
{
    public string? Policy { get; set; }

    public string? Limit { get; set; }

    public string? LegacyLimit { get; set; }

    public string? LegacyRemaining { get; set; }

    public string? LegacyReset { get; set; }

    /// <summary>Sets the fields on <paramref name="headers"/>, replacing any of the same name (a backend's own included).</summary>
    public void Apply(IHeaderDictionary headers)
    {
        if (Limit is null)
        {
            return;
        }

        headers[RateLimitMiddleware.PolicyHeader] = Policy;
        headers[RateLimitMiddleware.LimitHeader] = Limit;
        if (LegacyLimit is not null)
        {
            headers["X-RateLimit-Limit"] = LegacyLimit;
            headers["X-RateLimit-Remaining"] = LegacyRemaining;
            headers["X-RateLimit-Reset"] = LegacyReset;
        }
    }

    /// <summary>The names, for stages that must not store them with a response (they belong to one request).</summary>
    public static readonly string[] Names = [RateLimitMiddleware.PolicyHeader, RateLimitMiddleware.LimitHeader, "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"];
}
