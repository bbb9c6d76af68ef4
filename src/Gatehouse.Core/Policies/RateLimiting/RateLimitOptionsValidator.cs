using Gatehouse.Configuration;

namespace Gatehouse.Policies.RateLimiting;

/// <summary>Each <c>rateLimits</c> policy, and every route's <c>rateLimit</c> list: defined names ("did you mean"), no repeats.</summary>
internal sealed class RateLimitOptionsValidator : IGatewayOptionsValidator
{
    public void Validate(GatewayOptions options, ConfigDiagnostics diagnostics)
    {
        foreach (var policy in options.RateLimits)
        {
            RateLimitPolicyOptions.Validate(policy, options.Redis is not null, diagnostics);
        }

        var known = options.RateLimits.Select(p => p.Name).ToList();
        foreach (var route in options.Routes)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var limit in route.RateLimit)
            {
                if (!known.Contains(limit, StringComparer.Ordinal))
                {
                    var hint = ValueParsers.Closest(limit, known);
                    diagnostics.Error(route.PositionOf("rateLimit"), $"route '{route.Name}' refers to rate limit '{limit}', which is not defined"
                        + (hint is null ? known.Count == 0 ? " (there is no 'rateLimits' section)" : $" (rateLimits: {string.Join(", ", known)})" : $"; did you mean '{hint}'?"));
                }

                if (!seen.Add(limit))
                {
                    diagnostics.Error(route.PositionOf("rateLimit"), $"route '{route.Name}' lists rate limit '{limit}' twice");
                }
            }
        }
    }
}
