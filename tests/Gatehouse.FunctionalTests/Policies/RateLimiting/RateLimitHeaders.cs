using System.Text.RegularExpressions;

namespace Gatehouse.FunctionalTests.Policies.RateLimiting;

/// <summary>
/// Checks the fields against draft-ietf-httpapi-ratelimit-headers (-09/-10): each is an RFC 9651 structured-field
/// List of Items whose value is a String (the policy name) with parameters; RateLimit-Policy items need q (quota,
/// integer), may have w (window, integer seconds) and qu (quota unit, string); RateLimit items need r (remaining,
/// integer) and may have t (seconds to reset, integer).
/// </summary>
internal static partial class RateLimitHeaders
{
    [GeneratedRegex("""\A"(?<name>(?:[\x20-\x21\x23-\x5B\x5D-\x7E]|\\["\\])*)"(?<params>(?:;[a-z*][a-z0-9_.*-]*(?:=(?:-?\d{1,15}|"(?:[\x20-\x21\x23-\x5B\x5D-\x7E]|\\["\\])*"|[A-Za-z*][!#$%&'*+.^_`|~0-9A-Za-z:/-]*|\?[01]))?)*)\z""")]
    private static partial Regex ItemPattern();

    [GeneratedRegex(""";(?<key>[a-z*][a-z0-9_.*-]*)(?:=(?<value>-?\d{1,15}|"[^"]*"|[^;]+))?""")]
    private static partial Regex ParameterPattern();

    /// <summary>Parses a List of Items, failing the test on any syntax error; returns name → parameters.</summary>
    public static Dictionary<string, Dictionary<string, string>> Parse(string field)
    {
        var result = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var member in SplitList(field))
        {
            var match = ItemPattern().Match(member);
            Assert.True(match.Success, $"'{member}' is not a structured-field item with a string value (in '{field}')");
            var parameters = ParameterPattern().Matches(match.Groups["params"].Value)
                .ToDictionary(m => m.Groups["key"].Value, m => m.Groups["value"].Value, StringComparer.Ordinal);
            result.Add(match.Groups["name"].Value, parameters);
        }

        return result;
    }

    private static IEnumerable<string> SplitList(string field)
    {
        // Members are separated by a comma and optional whitespace; a comma inside a quoted string does not count.
        var start = 0;
        var quoted = false;
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '"' && (i == 0 || field[i - 1] != '\\'))
            {
                quoted = !quoted;
            }
            else if (field[i] == ',' && !quoted)
            {
                yield return field[start..i].Trim(' ', '\t');
                start = i + 1;
            }
        }

        yield return field[start..].Trim(' ', '\t');
    }

    public static Dictionary<string, Dictionary<string, string>> Policy(HttpResponseMessage response)
    {
        var items = Parse(string.Join(", ", response.Headers.GetValues("RateLimit-Policy")));
        foreach (var (name, parameters) in items)
        {
            Assert.True(parameters.TryGetValue("q", out var q) && long.TryParse(q, out var quota) && quota >= 0, $"{name}: q must be a non-negative integer");
            Assert.True(!parameters.TryGetValue("w", out var w) || (long.TryParse(w, out var window) && window > 0), $"{name}: w must be a positive integer");
        }

        return items;
    }

    public static Dictionary<string, Dictionary<string, string>> Limit(HttpResponseMessage response)
    {
        var items = Parse(string.Join(", ", response.Headers.GetValues("RateLimit")));
        foreach (var (name, parameters) in items)
        {
            Assert.True(parameters.TryGetValue("r", out var r) && long.TryParse(r, out var remaining) && remaining >= 0, $"{name}: r must be a non-negative integer");
            Assert.True(!parameters.TryGetValue("t", out var t) || (long.TryParse(t, out var reset) && reset >= 0), $"{name}: t must be a non-negative integer");
        }

        return items;
    }
}
