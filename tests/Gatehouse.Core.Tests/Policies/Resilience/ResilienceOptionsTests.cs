using Gatehouse.Configuration;
using Gatehouse.Policies.Resilience;

namespace Gatehouse.Core.Tests.Policies.Resilience;

public class ResilienceOptionsTests
{
    private static string Config(string service, string route = "") => $$"""
        services:
          orders:
            targets: ["http://127.0.0.1:5001"]
            {{service}}
        routes:
          - name: orders
            match: { path: "/{**rest}" }
            service: orders
            {{route}}
        """;

    private static GatewayOptions Load(string yaml) => ConfigLoader.Load(yaml, "t.yaml", _ => null);

    [Fact]
    public void Accepts_IssueExample_AllKeys()
    {
        var options = Load(Config(
            """
            timeout: { connect: 2s, response: 10s, idle: 30s }
                retry: { attempts: 2, on: [connectFailure, reset, 502, 503, 504], backoff: 50ms, budget: 20% }
                circuitBreaker: { failureRatio: 0.5, minimumRequests: 20, window: 10s, breakFor: 30s }
                maxConcurrentRequests: 200
            """,
            """fallback: { status: 503, body: '{"message":"orders are resting"}', contentType: application/json }"""));

        var service = options.Services.Single();
        Assert.Equal(TimeSpan.FromSeconds(2), service.Timeout!.Connect);
        Assert.Equal(TimeSpan.FromSeconds(10), service.Timeout.Response);
        Assert.Equal(TimeSpan.FromSeconds(30), service.Timeout.Idle);
        Assert.Equal(2, service.Retry!.Attempts);
        Assert.Equal([RetryCondition.ConnectFailure, RetryCondition.Reset], service.Retry.On);
        Assert.Equal([502, 503, 504], service.Retry.OnStatus);
        Assert.Equal(TimeSpan.FromMilliseconds(50), service.Retry.Backoff);
        Assert.Equal(0.2, service.Retry.Budget, 6);
        Assert.Equal(0.5, service.CircuitBreaker!.FailureRatio);
        Assert.Equal(20, service.CircuitBreaker.MinimumRequests);
        Assert.Equal(TimeSpan.FromSeconds(30), service.CircuitBreaker.BreakFor);
        Assert.Equal(200, service.MaxConcurrentRequests);
        var fallback = options.Routes.Single().Fallback!;
        Assert.Equal(503, fallback.Status);
        Assert.Equal("application/json", fallback.ContentType);
        Assert.Equal("{\"message\":\"orders are resting\"}", fallback.Body);
    }

    [Fact]
    public void Accepts_EjectAfterFailures()
    {
        var service = Load(Config("healthCheck: { ejectAfterFailures: 5 }")).Services.Single();

        Assert.Equal(5, service.HealthCheck!.EjectAfterFailures);
    }

    [Fact]
    public void Accepts_ScalarTimeout_AsIdleShorthand()
    {
        var service = Load(Config("timeout: 30s")).Services.Single();

        Assert.Equal(TimeSpan.FromSeconds(30), service.Timeout!.Idle);
        Assert.Null(service.Timeout.Response);
    }

    [Fact]
    public void Accepts_EmptyRetryAndBreaker_Defaults()
    {
        var service = Load(Config("retry: {}\n    circuitBreaker: {}")).Services.Single();

        Assert.Equal(2, service.Retry!.Attempts);
        Assert.Equal([502, 503, 504], service.Retry.OnStatus);
        Assert.Equal(64 * 1024, service.Retry.MaxReplayBody);
        Assert.Equal(3, service.Retry.MinRetriesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(10), service.CircuitBreaker!.Window);
    }

    [Fact]
    public void Accepts_RouteResponseTimeout()
    {
        var route = Load(Config("", "timeout: { response: 2s, idle: 1s }")).Routes.Single();

        Assert.Equal(TimeSpan.FromSeconds(2), route.Timeout!.Response);
        Assert.Equal(TimeSpan.FromSeconds(1), route.Timeout.Idle);
    }

    [Theory]
    [InlineData("retry: { attempts: 0 }", "attempts")]
    [InlineData("retry: { attempts: 11 }", "attempts")]
    [InlineData("retry: { on: [418] }", "'418'")]
    [InlineData("retry: { on: [sometimes] }", "'sometimes'")]
    [InlineData("retry: { on: [] }", "at least one condition")]
    [InlineData("retry: { budget: 0.2 }", "percentage")]
    [InlineData("retry: { budget: 120% }", "percentage")]
    [InlineData("retry: { backoff: 50 }", "needs a unit")]
    [InlineData("retry: { backoff: 2s }\n    timeout: { response: 1s }", "shorter than timeout.response")]
    [InlineData("retry: { maxReplayBody: lots }", "maxReplayBody")]
    [InlineData("retry: { tries: 2 }", "unknown key 'tries'")]
    [InlineData("circuitBreaker: { failureRatio: 0 }", "failureRatio")]
    [InlineData("circuitBreaker: { failureRatio: 1.5 }", "failureRatio")]
    [InlineData("circuitBreaker: { minimumRequests: 0 }", "minimumRequests")]
    [InlineData("circuitBreaker: { window: 10ms }", "at least 100ms")]
    [InlineData("circuitBreaker: { breakFor: 0s }", "greater than zero")]
    [InlineData("maxConcurrentRequests: 0", "maxConcurrentRequests")]
    [InlineData("timeout: { response: fast }", "timeout.response")]
    [InlineData("timeout: { connnect: 1s }", "did you mean 'connect'")]
    [InlineData("healthCheck: { passive: false, ejectAfterFailures: 3 }", "needs passive: true")]
    [InlineData("healthCheck: { ejectAfterFailures: 0 }", "ejectAfterFailures")]
    public void Rejects_BadServiceSettings(string service, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => Load(Config(service)));

        Assert.Contains(e.Errors, error => error.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("timeout: 5s", "must be a mapping on a route")]
    [InlineData("timeout: { connect: 1s }", "unknown key 'connect'")]
    [InlineData("fallback: { status: 503 }", "has no circuitBreaker")]
    [InlineData("fallback: { status: 99 }", "status")]
    public void Rejects_BadRouteSettings(string route, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => Load(Config("", route)));

        Assert.Contains(e.Errors, error => error.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Rejects_FallbackContentTypeNotAMediaType()
    {
        var e = Assert.Throws<ConfigException>(() => Load(Config("circuitBreaker: {}", "fallback: { body: x, contentType: 'not a type' }")));

        Assert.Contains(e.Errors, error => error.Message.Contains("not a media type", StringComparison.Ordinal));
    }
}
