using System.Globalization;
using System.Text;

namespace Gatehouse.Policies.Transcoding;

/// <summary>Timestamp, Duration and FieldMask text forms of proto3 JSON.</summary>
internal static class ProtoJsonTime
{
    /// <summary>RFC 3339 with any offset (normalised to UTC), up to 9 fractional digits, from year 1 to 9999.</summary>
    public static (long Seconds, int Nanos) ParseTimestamp(string text)
    {
        // yyyy-MM-ddTHH:mm:ss[.f{1,9}](Z|±HH:mm)
        if (text.Length < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':')
        {
            throw Bad(text);
        }

        var year = Digits(text, 0, 4);
        var month = Digits(text, 5, 2);
        var day = Digits(text, 8, 2);
        var hour = Digits(text, 11, 2);
        var minute = Digits(text, 14, 2);
        var second = Digits(text, 17, 2);
        var at = 19;
        var nanos = 0;
        if (at < text.Length && text[at] == '.')
        {
            var start = ++at;
            while (at < text.Length && char.IsAsciiDigit(text[at]))
            {
                at++;
            }

            var digits = at - start;
            if (digits is 0 or > 9)
            {
                throw Bad(text);
            }

            nanos = Digits(text, start, digits);
            for (var i = digits; i < 9; i++)
            {
                nanos *= 10;
            }
        }

        long offsetSeconds;
        if (at == text.Length - 1 && (text[at] == 'Z' || text[at] == 'z'))
        {
            offsetSeconds = 0;
        }
        else if (at == text.Length - 6 && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':')
        {
            offsetSeconds = (Digits(text, at + 1, 2) * 3600L) + (Digits(text, at + 4, 2) * 60L);
            if (text[at] == '-')
            {
                offsetSeconds = -offsetSeconds;
            }
        }
        else
        {
            throw Bad(text);
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            throw Bad(text);
        }

        var seconds = (new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc) - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerSecond - offsetSeconds;
        if (seconds is < WellKnownTypes.MinTimestampSeconds or > WellKnownTypes.MaxTimestampSeconds)
        {
            throw Bad(text);
        }

        return (seconds, nanos);
    }

    public static void FormatTimestamp(long seconds, int nanos, StringBuilder builder)
    {
        if (seconds is < WellKnownTypes.MinTimestampSeconds or > WellKnownTypes.MaxTimestampSeconds || nanos is < 0 or > 999_999_999)
        {
            throw new TranscodingException("google.protobuf.Timestamp out of range");
        }

        var time = DateTime.UnixEpoch.AddSeconds(seconds);
        builder.Append(time.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss", CultureInfo.InvariantCulture));
        AppendNanos(nanos, builder);
        builder.Append('Z');
    }

    /// <summary>"-1.5s": seconds with up to 9 fractional digits, both parts carrying the same sign.</summary>
    public static (long Seconds, int Nanos) ParseDuration(string text)
    {
        if (text.Length < 2 || text[^1] != 's')
        {
            throw Bad(text);
        }

        var body = text.AsSpan(0, text.Length - 1);
        var negative = body.Length > 0 && body[0] == '-';
        if (negative)
        {
            body = body[1..];
        }

        var dot = body.IndexOf('.');
        var whole = dot < 0 ? body : body[..dot];
        if (whole.Length == 0 || !long.TryParse(whole, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            throw Bad(text);
        }

        var nanos = 0;
        if (dot >= 0)
        {
            var fraction = body[(dot + 1)..];
            if (fraction.Length is 0 or > 9 || !int.TryParse(fraction, NumberStyles.None, CultureInfo.InvariantCulture, out nanos))
            {
                throw Bad(text);
            }

            for (var i = fraction.Length; i < 9; i++)
            {
                nanos *= 10;
            }
        }

        if (seconds > WellKnownTypes.MaxDurationSeconds)
        {
            throw Bad(text);
        }

        return negative ? (-seconds, -nanos) : (seconds, nanos);
    }

    public static void FormatDuration(long seconds, int nanos, StringBuilder builder)
    {
        if (seconds is < -WellKnownTypes.MaxDurationSeconds or > WellKnownTypes.MaxDurationSeconds || nanos is < -999_999_999 or > 999_999_999
            || (seconds < 0 && nanos > 0) || (seconds > 0 && nanos < 0))
        {
            throw new TranscodingException("google.protobuf.Duration out of range");
        }

        if (seconds < 0 || nanos < 0)
        {
            builder.Append('-');
        }

        builder.Append(Math.Abs(seconds).ToString(CultureInfo.InvariantCulture));
        AppendNanos(Math.Abs(nanos), builder);
        builder.Append('s');
    }

    /// <summary>0, 3, 6 or 9 fractional digits, as Google's formatters write.</summary>
    private static void AppendNanos(int nanos, StringBuilder builder)
    {
        if (nanos == 0)
        {
            return;
        }

        builder.Append('.');
        if (nanos % 1_000_000 == 0)
        {
            builder.Append((nanos / 1_000_000).ToString("D3", CultureInfo.InvariantCulture));
        }
        else if (nanos % 1_000 == 0)
        {
            builder.Append((nanos / 1_000).ToString("D6", CultureInfo.InvariantCulture));
        }
        else
        {
            builder.Append(nanos.ToString("D9", CultureInfo.InvariantCulture));
        }
    }

    public static string CamelToSnake(string path)
    {
        var builder = new StringBuilder(path.Length + 4);
        foreach (var c in path)
        {
            if (char.IsAsciiLetterUpper(c))
            {
                builder.Append('_').Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    public static string SnakeToCamel(string path)
    {
        var builder = new StringBuilder(path.Length);
        var upper = false;
        foreach (var c in path)
        {
            if (c == '_')
            {
                upper = true;
            }
            else
            {
                builder.Append(upper ? char.ToUpperInvariant(c) : c);
                upper = false;
            }
        }

        return builder.ToString();
    }

    private static int Digits(string text, int start, int count)
    {
        var value = 0;
        for (var i = start; i < start + count; i++)
        {
            if (i >= text.Length || !char.IsAsciiDigit(text[i]))
            {
                throw Bad(text);
            }

            value = (value * 10) + (text[i] - '0');
        }

        return value;
    }

    private static TranscodingException Bad(string text) => new($"'{text}' is not a valid timestamp or duration");
}
