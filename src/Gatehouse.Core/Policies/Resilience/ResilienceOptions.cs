using System.Globalization;
using Gatehouse.Configuration;
using YamlDotNet.RepresentationModel;

namespace Gatehouse.Policies.Resilience;

/// <summary>
/// <c>timeout:</c> on a service (<c>connect</c>, <c>response</c>, <c>idle</c>) or a route (<c>response</c>, <c>idle</c>). On a
/// service the scalar form <c>timeout: 30s</c> is shorthand for <c>{ idle: 30s }</c>, what it always meant.
/// </summary>
public sealed record TimeoutOptions : ConfigSection
{
    internal static readonly string[] ServiceKeys = ["connect", "response", "idle"];

    // A route cannot have its own connect timeout: connections belong to the service's pool, shared by its routes.
    internal static readonly string[] RouteKeys = ["response", "idle"];

    /// <summary>Opening a TCP (and TLS) connection to a target; a refused or timed-out connect is a <c>connectFailure</c>. Default 15s (YARP's).</summary>
    public TimeSpan? Connect { get; init; }

    /// <summary>From the start of forwarding to the backend's response headers, over all retries; then 504. Default none.</summary>
    public TimeSpan? Response { get; init; }

    /// <summary>Longest silence from the backend (no headers, no body bytes) before 504. Default 100s (YARP's).</summary>
    public TimeSpan? Idle { get; init; }

    internal static TimeoutOptions? Read(ConfigNodeReader parent, bool service)
    {
        var node = parent.Node("timeout");
        if (node is null)
        {
            return null;
        }

        if (node is YamlScalarNode)
        {
            if (!service)
            {
                parent.Error("timeout", $"{parent.Section}.timeout must be a mapping on a route, e.g. timeout: {{ response: 5s }}");
                return null;
            }

            return new TimeoutOptions { Position = parent.At("timeout"), Idle = parent.Duration("timeout") };
        }

        var r = parent.Mapping("timeout", service ? ServiceKeys : RouteKeys);
        return r is null ? null : new TimeoutOptions
        {
            Position = r.Position,
            KeyPositions = r.KeyPositions,
            Connect = service ? r.Duration("connect") : null,
            Response = r.Duration("response"),
            Idle = r.Duration("idle"),
        };
    }
}

/// <summary>What makes an attempt worth retrying.</summary>
public enum RetryCondition
{
    /// <summary>The connection to the target could not be opened (refused, unreachable, connect timeout).</summary>
    ConnectFailure,

    /// <summary>The connection broke before the response headers arrived.</summary>
    Reset,

    /// <summary>The target sent nothing for the idle timeout before its response headers.</summary>
    Timeout,
}

/// <summary><c>retry:</c> on a service. Opt-in: without it nothing is retried.</summary>
public sealed record RetryOptions : ConfigSection
{
    internal static readonly string[] Keys = ["attempts", "on", "backoff", "budget", "minRetriesPerSecond", "maxReplayBody"];

    /// <summary>Retries after the first try: 2 means at most 3 tries. 1–10, default 2.</summary>
    public int Attempts { get; init; } = 2;

    /// <summary>Transport conditions that are retried. Default connectFailure and reset.</summary>
    public IReadOnlyList<RetryCondition> On { get; init; } = [RetryCondition.ConnectFailure, RetryCondition.Reset];

    /// <summary>Backend statuses (500–599) that are retried. Default 502, 503, 504.</summary>
    public IReadOnlyList<int> OnStatus { get; init; } = [502, 503, 504];

    /// <summary>Base delay before the first retry; doubled for each further one, with jitter. Default 50ms.</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Retries in the last 10 seconds may be at most this share of the requests in them, plus the floor below. 0–100%, default 20%.</summary>
    public double Budget { get; init; } = 0.2;

    /// <summary>Retries per second always allowed on top of <see cref="Budget"/>, so that a quiet service can retry at all. Default 3.</summary>
    public int MinRetriesPerSecond { get; init; } = 3;

    /// <summary>A request body is buffered for replay up to this size; a larger (or chunked) body is not retried. Default 64KB.</summary>
    public long MaxReplayBody { get; init; } = 64 * 1024;

    /// <summary>A text that is equal exactly when the settings are, to keep budget state across reloads that do not change them.</summary>
    internal string Key => string.Create(CultureInfo.InvariantCulture,
        $"{Attempts}|{string.Join(',', On)}|{string.Join(',', OnStatus)}|{Backoff.Ticks}|{Budget}|{MinRetriesPerSecond}|{MaxReplayBody}");

    internal static RetryOptions? Read(ConfigNodeReader parent)
    {
        var r = parent.Mapping("retry", Keys);
        if (r is null)
        {
            return null;
        }

        var defaults = new RetryOptions();
        var conditions = new List<RetryCondition>();
        var statuses = new List<int>();
        var on = r.StringList("on");
        foreach (var item in on ?? [])
        {
            switch (item)
            {
                case "connectFailure": conditions.Add(RetryCondition.ConnectFailure); break;
                case "reset": conditions.Add(RetryCondition.Reset); break;
                case "timeout": conditions.Add(RetryCondition.Timeout); break;
                default:
                    if (int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out var status) && status is >= 500 and <= 599)
                    {
                        statuses.Add(status);
                    }
                    else
                    {
                        r.Error("on", $"{r.Section}.on: '{item}' is not connectFailure, reset, timeout or a status from 500 to 599");
                    }

                    break;
            }
        }

        return new RetryOptions
        {
            Position = r.Position,
            KeyPositions = r.KeyPositions,
            Attempts = r.Int("attempts", 1, 10) ?? defaults.Attempts,
            On = on is null ? defaults.On : conditions.Distinct().ToList(),
            OnStatus = on is null ? defaults.OnStatus : statuses.Distinct().ToList(),
            Backoff = r.Duration("backoff") ?? defaults.Backoff,
            Budget = ReadPercent(r, "budget") ?? defaults.Budget,
            MinRetriesPerSecond = r.Int("minRetriesPerSecond", 0, 10_000) ?? defaults.MinRetriesPerSecond,
            MaxReplayBody = r.Size("maxReplayBody") ?? defaults.MaxReplayBody,
        };
    }

    /// <summary><c>20%</c>; a share is written with its percent sign so that 0.2 and 20 cannot be confused.</summary>
    private static double? ReadPercent(ConfigNodeReader r, string key)
    {
        var text = r.String(key);
        if (text is null)
        {
            return null;
        }

        var trimmed = text.Trim();
        if (trimmed.EndsWith('%')
            && double.TryParse(trimmed.AsSpan(0, trimmed.Length - 1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var percent)
            && percent is >= 0 and <= 100)
        {
            return percent / 100;
        }

        r.Error(key, $"{r.Section}.{key} must be a percentage from 0% to 100%, e.g. 20%, not '{text}'");
        return null;
    }
}

/// <summary><c>circuitBreaker:</c> on a service. Counts failed backend calls (connection errors, timeouts, 5xx) per service.</summary>
public sealed record CircuitBreakerOptions : ConfigSection
{
    internal static readonly string[] Keys = ["failureRatio", "minimumRequests", "window", "breakFor"];

    /// <summary>Share of failed calls in <see cref="Window"/> that opens the breaker. Over 0, at most 1; default 0.5.</summary>
    public double FailureRatio { get; init; } = 0.5;

    /// <summary>Calls in <see cref="Window"/> needed before the ratio is judged. Default 20.</summary>
    public int MinimumRequests { get; init; } = 20;

    /// <summary>The sliding window the ratio is measured over. Default 10s.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the breaker stays open before one probe is let through. Default 30s.</summary>
    public TimeSpan BreakFor { get; init; } = TimeSpan.FromSeconds(30);

    internal string Key => string.Create(CultureInfo.InvariantCulture, $"{FailureRatio}|{MinimumRequests}|{Window.Ticks}|{BreakFor.Ticks}");

    internal static CircuitBreakerOptions? Read(ConfigNodeReader parent)
    {
        var r = parent.Mapping("circuitBreaker", Keys);
        if (r is null)
        {
            return null;
        }

        var defaults = new CircuitBreakerOptions();
        double? ratio = null;
        if (r.String("failureRatio") is { } text)
        {
            if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value is > 0 and <= 1)
            {
                ratio = value;
            }
            else
            {
                r.Error("failureRatio", $"{r.Section}.failureRatio must be a number over 0 and at most 1, e.g. 0.5, not '{text}'");
            }
        }

        return new CircuitBreakerOptions
        {
            Position = r.Position,
            KeyPositions = r.KeyPositions,
            FailureRatio = ratio ?? defaults.FailureRatio,
            MinimumRequests = r.Int("minimumRequests", 1, 1_000_000) ?? defaults.MinimumRequests,
            Window = r.Duration("window") ?? defaults.Window,
            BreakFor = r.Duration("breakFor") ?? defaults.BreakFor,
        };
    }
}

/// <summary><c>fallback:</c> on a route: a static answer instead of 503 <c>circuit-open</c> while the service's breaker is open.</summary>
public sealed record FallbackOptions : ConfigSection
{
    internal static readonly string[] Keys = ["status", "body", "contentType"];

    /// <summary>Default 503.</summary>
    public int Status { get; init; } = 503;

    /// <summary>Default empty.</summary>
    public string Body { get; init; } = "";

    /// <summary>Default <c>text/plain; charset=utf-8</c> when there is a body.</summary>
    public string? ContentType { get; init; }

    internal static FallbackOptions? Read(ConfigNodeReader parent)
    {
        var r = parent.Mapping("fallback", Keys);
        return r is null ? null : new FallbackOptions
        {
            Position = r.Position,
            KeyPositions = r.KeyPositions,
            Status = r.Int("status", 200, 599) ?? 503,
            Body = r.String("body") ?? "",
            ContentType = r.String("contentType"),
        };
    }
}
