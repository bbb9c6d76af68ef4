using System.Globalization;

namespace Gatehouse.Configuration;

/// <summary>Parses the human units of the config file: durations (<c>250ms</c>, <c>5s</c>, <c>1m</c>) and sizes (<c>8KB</c>, <c>10MB</c>).</summary>
internal static class ValueParsers
{
    /// <summary>
    /// The one definition of a header name every validator uses: an RFC 9110 token (visible ASCII except the
    /// delimiters <c>"(),/:;&lt;=&gt;?@[\]{}</c>).
    /// </summary>
    public static bool IsHeaderName(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c <= ' ' || c >= 127 || "\"(),/:;<=>?@[\\]{}".Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Durations need a unit: a bare number is ambiguous (Kong uses seconds, Envoy protobuf durations need "s").</summary>
    public static bool TryParseDuration(string text, out TimeSpan value, out string? error)
    {
        value = default;
        error = null;
        var s = text.Trim();
        var unitStart = s.Length;
        while (unitStart > 0 && char.IsAsciiLetter(s[unitStart - 1]))
        {
            unitStart--;
        }

        var number = s[..unitStart].TrimEnd();
        var unit = s[unitStart..].ToLowerInvariant();
        if (unit.Length == 0)
        {
            error = $"'{text}' needs a unit: ms, s, m, h or d (for example 250ms, 5s, 1m)";
            return false;
        }

        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            error = $"'{text}' is not a duration (expected a number and a unit, for example 250ms, 5s, 1m)";
            return false;
        }

        double? ms = unit switch
        {
            "ms" => amount,
            "s" => amount * 1000,
            "m" => amount * 60_000,
            "h" => amount * 3_600_000,
            "d" => amount * 86_400_000,
            _ => null,
        };
        if (ms is null)
        {
            error = $"'{text}' has an unknown unit '{unit}': use ms, s, m, h or d";
            return false;
        }

        if (ms.Value >= TimeSpan.FromDays(365).TotalMilliseconds)
        {
            error = $"'{text}' is too long; durations are limited to under a year";
            return false;
        }

        value = TimeSpan.FromMilliseconds(ms.Value);
        return true;
    }

    /// <summary>Sizes use binary multiples (1KB = 1024 bytes), as nginx and Envoy do; a bare number is bytes.</summary>
    public static bool TryParseSize(string text, out long value, out string? error)
    {
        value = default;
        error = null;
        var s = text.Trim();
        var unitStart = s.Length;
        while (unitStart > 0 && char.IsAsciiLetter(s[unitStart - 1]))
        {
            unitStart--;
        }

        var number = s[..unitStart].TrimEnd();
        var unit = s[unitStart..].ToUpperInvariant();
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || amount < 0)
        {
            error = $"'{text}' is not a size (expected for example 512B, 8KB, 10MB, 1GB)";
            return false;
        }

        long? multiplier = unit switch
        {
            "" or "B" => 1L,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            _ => null,
        };
        if (multiplier is null)
        {
            error = $"'{text}' has an unknown unit '{s[unitStart..]}': use B, KB, MB or GB";
            return false;
        }

        if (amount * multiplier.Value >= long.MaxValue / 2)
        {
            error = $"'{text}' is too large";
            return false;
        }

        value = (long)Math.Round(amount * multiplier.Value);
        return true;
    }

    /// <summary>Edit distance for "did you mean" hints on unknown keys.</summary>
    public static int EditDistance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    public static string? Closest(string key, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var d = EditDistance(key, candidate);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = candidate;
            }
        }

        return best is not null && bestDistance <= Math.Max(2, key.Length / 3) ? best : null;
    }
}
