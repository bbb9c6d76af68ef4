using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Gatehouse.Configuration;

namespace Gatehouse.Admin;

/// <summary>
/// The effective config (defaults filled in) as JSON for <c>GET /config</c> and <c>GET /routes</c>, with secrets
/// replaced by <c>"***"</c>. Serialised by System.Text.Json's source generator from the options records, so a key a
/// policy adds shows up without touching this file, and nothing needs reflection under Native AOT.
/// </summary>
internal static partial class ConfigJson
{
    public const string Redacted = "***";

    /// <summary>The options as a JSON tree, secrets already redacted.</summary>
    public static JsonObject ToRedactedJson(GatewayOptions options)
    {
        var node = JsonSerializer.SerializeToNode(options, ConfigJsonContext.Default.GatewayOptions)!.AsObject();
        Redact(node);
        return node;
    }

    /// <summary>Any JSON value (e.g. one route's options) redacted the same way.</summary>
    public static JsonNode? ToRedactedJson<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var node = JsonSerializer.SerializeToNode(value, type);
        Redact(node);
        return node;
    }

    /// <summary>
    /// The generic rule: a string (or list of strings) under a key that names a secret becomes <c>"***"</c>, whatever
    /// section it is in: <c>password</c>, <c>clientSecret</c>, <c>token</c>, <c>apiKeys</c>, a header edit that sets
    /// <c>Authorization</c> or <c>X-Api-Key</c>. Every other string is scrubbed of inline credentials: a
    /// <c>password=</c> item of a connection string (Redis) and the user-info of a URL. Objects are walked, never
    /// dropped whole, so <c>apiKey: { header: X-Api-Key }</c> stays readable.
    /// </summary>
    public static void Redact(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj.ToList())
                {
                    if (IsSecretName(name) && child is JsonValue or JsonArray)
                    {
                        obj[name] = Redacted;
                    }
                    else if (child is JsonValue value && value.TryGetValue<string>(out var text))
                    {
                        obj[name] = Scrub(text);
                    }
                    else
                    {
                        Redact(child);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue value && value.TryGetValue<string>(out var text))
                    {
                        array[i] = Scrub(text);
                    }
                    else
                    {
                        Redact(array[i]);
                    }
                }

                break;
        }
    }

    /// <summary>Key names that hold a secret, compared without case, dashes or underscores.</summary>
    internal static bool IsSecretName(string name)
    {
        var normalized = name.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
        return normalized.Contains("secret", StringComparison.Ordinal)
            || normalized.Contains("password", StringComparison.Ordinal)
            || normalized.Contains("passwd", StringComparison.Ordinal)
            || normalized.Contains("token", StringComparison.Ordinal)
            || normalized.Contains("apikey", StringComparison.Ordinal)
            || normalized.Contains("credential", StringComparison.Ordinal)
            || normalized.Contains("privatekey", StringComparison.Ordinal)
            || normalized is "authorization" or "proxyauthorization" or "cookie" or "setcookie";
    }

    /// <summary>Inline credentials inside an ordinary value: <c>host:6379,password=x</c>, <c>redis://user:x@host</c>.</summary>
    internal static string Scrub(string text)
    {
        if (text.Contains('=', StringComparison.Ordinal))
        {
            text = ConnectionStringSecret().Replace(text, m => m.Groups["key"].Value + "=" + Redacted);
        }

        if (text.Contains('@', StringComparison.Ordinal))
        {
            text = UrlUserInfo().Replace(text, m => m.Groups["scheme"].Value + Redacted + "@");
        }

        return text;
    }

    [GeneratedRegex(@"(?<key>\b(password|pwd|secret|token|user ?id|uid)\b)\s*=[^,;]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ConnectionStringSecret();

    [GeneratedRegex(@"(?<scheme>\b[a-z][a-z0-9+.-]*://)[^/@\s]+@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UrlUserInfo();
}

/// <summary>Durations as the config writes them (<c>30s</c>, <c>50ms</c>), not .NET's <c>00:00:30</c>.</summary>
internal sealed class DurationJsonConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("the admin API only writes config");

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Ticks % TimeSpan.TicksPerSecond == 0
            ? value.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s"
            : value.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + "ms");
}

/// <summary>Name/value lists (header edits, forwardClaims) as the mapping they are in the file.</summary>
internal sealed class NameValueListJsonConverter : JsonConverter<IReadOnlyList<KeyValuePair<string, string>>>
{
    public override IReadOnlyList<KeyValuePair<string, string>> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("the admin API only writes config");

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<KeyValuePair<string, string>> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, text) in value)
        {
            writer.WriteString(name, text);
        }

        writer.WriteEndObject();
    }
}

/// <summary>
/// Enum values in camelCase, as most are written in the file (<c>powerOfTwoChoices</c>, <c>gcra</c>). Listed one by
/// one because a converter factory for every enum would need MakeGenericType, which Native AOT cannot do; an enum
/// not listed still serialises, by its .NET name.
/// </summary>
internal sealed class CamelCaseEnumConverter<T>() : JsonStringEnumConverter<T>(JsonNamingPolicy.CamelCase)
    where T : struct, Enum;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [
        typeof(DurationJsonConverter), typeof(NameValueListJsonConverter),
        typeof(CamelCaseEnumConverter<ForwardedHeader>), typeof(CamelCaseEnumConverter<ListenProtocols>),
        typeof(CamelCaseEnumConverter<LoadBalancingMode>), typeof(CamelCaseEnumConverter<ValueMatchMode>),
        typeof(CamelCaseEnumConverter<Policies.Resilience.RetryCondition>), typeof(CamelCaseEnumConverter<Policies.PathFilter.EscapedSlashes>),
        typeof(CamelCaseEnumConverter<Policies.RateLimiting.RateLimitAlgorithm>), typeof(CamelCaseEnumConverter<Policies.RateLimiting.RateLimitStoreKind>),
        typeof(CamelCaseEnumConverter<Policies.RateLimiting.RateLimitHeaderMode>)])]
[JsonSerializable(typeof(GatewayOptions))]
[JsonSerializable(typeof(RouteOptions))]
[JsonSerializable(typeof(ServiceOptions))]
[JsonSerializable(typeof(Policies.Authentication.AuthOptions))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext;
