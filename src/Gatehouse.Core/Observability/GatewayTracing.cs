using System.Diagnostics;

namespace Gatehouse.Observability;

/// <summary>
/// The gateway's <see cref="ActivitySource"/> (<c>Gatehouse</c>). The server span is started by
/// <see cref="GatewayTelemetry"/> only for requests the gateway decided to record; stages add child spans with
/// <see cref="StartStage"/>, which costs one async-local read for every other request.
/// </summary>
internal static class GatewayTracing
{
    public const string SourceName = "Gatehouse";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>A child span of the current gateway span when that one is recorded; otherwise null (no work).</summary>
    public static Activity? StartStage(string name)
    {
        var current = Activity.Current;
        return current is { Recorded: true } && ReferenceEquals(current.Source, Source)
            ? Source.StartActivity(name, ActivityKind.Internal)
            : null;
    }
}
