using System.Diagnostics.Metrics;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// Authentication's own instruments, from <see cref="IMeterFactory"/> (the observability issue exports them).
/// Labels stay bounded: provider names come from the config, operations are a fixed set.
/// </summary>
internal sealed class AuthenticationMetrics
{
    public const string MeterName = "Gatehouse.Authentication";

    private readonly Counter<long> _identityProviderFailures;

    public AuthenticationMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _identityProviderFailures = meter.CreateCounter<long>(
            "gatehouse.identity_provider.failures",
            unit: "{failure}",
            description: "Failed calls to an identity provider: fetching discovery and keys, or introspection.");
    }

    public void IdentityProviderFailed(string provider, string operation) =>
        _identityProviderFailures.Add(1, new KeyValuePair<string, object?>("provider", provider), new KeyValuePair<string, object?>("operation", operation));
}
