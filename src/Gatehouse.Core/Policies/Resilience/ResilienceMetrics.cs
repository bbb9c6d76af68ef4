using System.Diagnostics.Metrics;
using Gatehouse.Configuration;

namespace Gatehouse.Policies.Resilience;

/// <summary>
/// Resilience's own instruments, from <see cref="IMeterFactory"/> (the observability issue exports them). Labels stay
/// bounded: service names come from the config, reasons are a fixed set.
/// </summary>
internal sealed class ResilienceMetrics
{
    public const string MeterName = "Gatehouse.Resilience";

    private readonly Counter<long> _retries;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _timeouts;

    public ResilienceMetrics(IMeterFactory meterFactory, GatewayState state)
    {
        var meter = meterFactory.Create(MeterName);
        _retries = meter.CreateCounter<long>("gatehouse.resilience.retries", unit: "{retry}", description: "Requests sent again to a service after a failed try.");
        _rejected = meter.CreateCounter<long>("gatehouse.resilience.rejections", unit: "{request}", description: "Requests refused by a resilience rule: circuit open or too many in flight (no backend call), or a retry the budget did not allow (reason).");
        _timeouts = meter.CreateCounter<long>("gatehouse.resilience.timeouts", unit: "{request}", description: "Requests that got no response headers within the response timeout.");
        meter.CreateObservableGauge("gatehouse.circuit_breaker.state", () => Observe(state), unit: "{state}",
            description: "Circuit breaker state per service: 0 closed, 1 open, 2 half-open.");
        meter.CreateObservableCounter("gatehouse.circuit_breaker.transitions", () => ObserveTransitions(state), unit: "{transition}",
            description: "Circuit breaker transitions per service, by the state entered (open, half_open, closed).");
    }

    public void Retried(string service, string reason) =>
        _retries.Add(1, new KeyValuePair<string, object?>("service", service), new KeyValuePair<string, object?>("reason", reason));

    public void Rejected(string service, string reason) =>
        _rejected.Add(1, new KeyValuePair<string, object?>("service", service), new KeyValuePair<string, object?>("reason", reason));

    public void TimedOut(string service) => _timeouts.Add(1, new KeyValuePair<string, object?>("service", service));

    private static IEnumerable<Measurement<long>> ObserveTransitions(GatewayState state)
    {
        foreach (var (service, resilience) in state.CurrentOrNull?.Resilience ?? System.Collections.Frozen.FrozenDictionary<string, ServiceResilience>.Empty)
        {
            if (resilience.Breaker is { } breaker)
            {
                var (opened, halfOpened, closed) = breaker.Transitions;
                var serviceTag = new KeyValuePair<string, object?>("service", service);
                yield return new Measurement<long>(opened, serviceTag, new KeyValuePair<string, object?>("to", "open"));
                yield return new Measurement<long>(halfOpened, serviceTag, new KeyValuePair<string, object?>("to", "half_open"));
                yield return new Measurement<long>(closed, serviceTag, new KeyValuePair<string, object?>("to", "closed"));
            }
        }
    }

    private static IEnumerable<Measurement<int>> Observe(GatewayState state)
    {
        foreach (var (service, resilience) in state.CurrentOrNull?.Resilience ?? System.Collections.Frozen.FrozenDictionary<string, ServiceResilience>.Empty)
        {
            if (resilience.Breaker is { } breaker)
            {
                yield return new Measurement<int>((int)breaker.State, new KeyValuePair<string, object?>("service", service));
            }
        }
    }
}
