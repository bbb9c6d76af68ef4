using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Resilience;

public class ResilienceMetricsTests
{
    [Fact]
    public async Task RetriesRejectionsAndBreakerState_AreMeasuredPerService()
    {
        // A service name no other test uses: meters are process-wide and tests run in parallel.
        const string service = "metered-orders";
        var counts = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Gatehouse.Resilience")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.Start();
        await using var backend = await FaultBackend.StartAsync();
        backend.Fault = Fault.Status;
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              {{service}}:
                targets: ["{{backend.Url}}"]
                retry: { attempts: 1, backoff: 1ms }
                circuitBreaker: { minimumRequests: 4, breakFor: 1m }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: {{service}} }
            """);

        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetAsync("/x");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        listener.RecordObservableInstruments();

        Assert.True(counts.GetValueOrDefault("gatehouse.resilience.retries") >= 1);
        Assert.True(counts.GetValueOrDefault("gatehouse.resilience.rejections") >= 1);
        Assert.Equal(1, counts.GetValueOrDefault("gatehouse.circuit_breaker.state"));

        void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "service" && (string?)tag.Value == service)
                {
                    if (instrument is ObservableGauge<int>)
                    {
                        counts[instrument.Name] = value;
                    }
                    else
                    {
                        counts.AddOrUpdate(instrument.Name, value, (_, old) => old + value);
                    }
                }
            }
        }
    }
}
