using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Policies.Caching;

public class CacheMetricsTests
{
    [Fact]
    public async Task Requests_CountedByRouteAndResult()
    {
        // A route name no other test uses: meters are process-wide and tests run in parallel.
        const string route = "metered-catalog";
        var counts = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Gatehouse.Caching")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? routeTag = null, result = null;
            foreach (var tag in tags)
            {
                switch (tag.Key)
                {
                    case "route":
                        routeTag = tag.Value as string;
                        break;
                    case "result":
                        result = tag.Value as string;
                        break;
                }
            }

            if (instrument.Name == "gatehouse.cache.requests" && routeTag == route)
            {
                counts.AddOrUpdate(result!, value, (_, n) => n + value);
            }
        });
        listener.Start();
        await using var backend = await CachingBackend.StartAsync();
        backend.Answer("/r", "x", 200, ("Cache-Control", "max-age=60"));
        await using var gateway = await TestGateway.StartAsync($$"""
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: {{route}}, match: { path: "/{**rest}" }, service: s, cache: {} }
            """);

        (await gateway.Client.GetAsync("/r")).Dispose();
        (await gateway.Client.GetAsync("/r")).Dispose();
        (await gateway.Client.GetAsync("/r")).Dispose();
        (await gateway.Client.PostAsync("/r", new StringContent("x"))).Dispose();

        Assert.Equal(1, counts.GetValueOrDefault("miss"));
        Assert.Equal(2, counts.GetValueOrDefault("hit"));
        Assert.Equal(1, counts.GetValueOrDefault("bypass"));
    }
}
