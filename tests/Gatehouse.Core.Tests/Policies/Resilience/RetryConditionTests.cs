using System.Net.Http;
using Gatehouse.Policies.Resilience;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Core.Tests.Policies.Resilience;

public class RetryConditionTests
{
    private sealed record Failure(ForwarderError Error, Exception? Exception) : IForwarderErrorFeature;

    public static TheoryData<ForwarderError, Exception?, RetryCondition?> Cases() => new()
    {
        { ForwarderError.Request, new HttpRequestException(HttpRequestError.ConnectionError, "refused"), RetryCondition.ConnectFailure },
        { ForwarderError.Request, new HttpRequestException(HttpRequestError.NameResolutionError, "no such host"), RetryCondition.ConnectFailure },
        { ForwarderError.Request, new HttpRequestException(HttpRequestError.ResponseEnded, "ended"), RetryCondition.Reset },
        { ForwarderError.Request, new HttpRequestException("wrapped", new IOException("reset by peer")), RetryCondition.Reset },
        { ForwarderError.RequestTimedOut, new TaskCanceledException("connect", new TimeoutException("ConnectTimeout")), RetryCondition.ConnectFailure },
        { ForwarderError.RequestTimedOut, new TaskCanceledException("idle"), RetryCondition.Timeout },
        { ForwarderError.RequestBodyDestination, new IOException("broken pipe"), RetryCondition.Reset },
        { ForwarderError.ResponseHeaders, new HttpRequestException("bad header"), null },
        { ForwarderError.ResponseBodyDestination, new IOException("mid-body"), null },
        { ForwarderError.RequestCanceled, new OperationCanceledException(), null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ConditionOf_ForwarderError_MapsToRetryCondition(ForwarderError error, Exception? exception, RetryCondition? expected)
    {
        Assert.Equal(expected, ResilienceMiddleware.ConditionOf(new Failure(error, exception)));
    }
}
