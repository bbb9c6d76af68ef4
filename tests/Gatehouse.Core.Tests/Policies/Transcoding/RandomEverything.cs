using Gatehouse.Tests.Bookstore;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Gatehouse.Core.Tests.Policies.Transcoding;

/// <summary>Random <see cref="Everything"/> messages within what proto3 JSON can represent (each field set half the time).</summary>
internal static class RandomEverything
{
    public static Everything Create(Random r)
    {
        var m = new Everything();
        if (Coin(r)) m.FDouble = Double(r);
        if (Coin(r)) m.FFloat = Float(r);
        if (Coin(r)) m.FInt32 = r.Next(int.MinValue, int.MaxValue);
        if (Coin(r)) m.FInt64 = r.NextInt64(long.MinValue, long.MaxValue);
        if (Coin(r)) m.FUint32 = (uint)r.NextInt64(0, uint.MaxValue);
        if (Coin(r)) m.FUint64 = (ulong)r.NextInt64() * 2;
        if (Coin(r)) m.FSint32 = r.Next(int.MinValue, int.MaxValue);
        if (Coin(r)) m.FSint64 = r.NextInt64(long.MinValue, long.MaxValue);
        if (Coin(r)) m.FFixed32 = (uint)r.NextInt64(0, uint.MaxValue);
        if (Coin(r)) m.FFixed64 = (ulong)r.NextInt64();
        if (Coin(r)) m.FSfixed32 = r.Next(int.MinValue, int.MaxValue);
        if (Coin(r)) m.FSfixed64 = r.NextInt64(long.MinValue, long.MaxValue);
        if (Coin(r)) m.FBool = Coin(r);
        if (Coin(r)) m.FString = Text(r);
        if (Coin(r)) m.FBytes = Bytes(r);
        if (Coin(r)) m.FEnum = (Genre)r.Next(0, 4);
        if (Coin(r)) m.FNested = NestedValue(r, 3);
        for (var i = Small(r); i > 0; i--) m.RDouble.Add(Double(r));
        for (var i = Small(r); i > 0; i--) m.RInt32.Add(r.Next(int.MinValue, int.MaxValue));
        for (var i = Small(r); i > 0; i--) m.RInt64.Add(r.NextInt64(long.MinValue, long.MaxValue));
        for (var i = Small(r); i > 0; i--) m.RUint64.Add((ulong)r.NextInt64());
        for (var i = Small(r); i > 0; i--) m.RString.Add(Text(r));
        for (var i = Small(r); i > 0; i--) m.RBytes.Add(Bytes(r));
        for (var i = Small(r); i > 0; i--) m.REnum.Add((Genre)r.Next(0, 3));
        for (var i = Small(r); i > 0; i--) m.RNested.Add(NestedValue(r, 2));
        for (var i = Small(r); i > 0; i--) m.RBool.Add(Coin(r));
        for (var i = Small(r); i > 0; i--) m.RFloat.Add(Float(r));
        for (var i = Small(r); i > 0; i--) m.RSint64.Add(r.NextInt64(long.MinValue, long.MaxValue));
        for (var i = Small(r); i > 0; i--) m.RFixed32.Add((uint)r.NextInt64(0, uint.MaxValue));
        for (var i = Small(r); i > 0; i--) m.MStringInt32[Text(r)] = r.Next();
        for (var i = Small(r); i > 0; i--) m.MInt64String[r.NextInt64(long.MinValue, long.MaxValue)] = Text(r);
        for (var i = Small(r); i > 0; i--) m.MBoolNested[Coin(r)] = NestedValue(r, 1);
        for (var i = Small(r); i > 0; i--) m.MStringEnum[Text(r)] = (Genre)r.Next(0, 3);
        for (var i = Small(r); i > 0; i--) m.MUint32Bytes[(uint)r.NextInt64(0, uint.MaxValue)] = Bytes(r);
        switch (r.Next(5))
        {
            case 0: m.OString = Text(r); break;
            case 1: m.OInt64 = r.NextInt64(long.MinValue, long.MaxValue); break;
            case 2: m.ONested = NestedValue(r, 1); break;
            case 3: m.ONull = NullValue.NullValue; break;
        }

        if (Coin(r)) m.PInt32 = r.Next(-2, 3);
        if (Coin(r)) m.PString = Coin(r) ? "" : Text(r);
        if (Coin(r)) m.PEnum = (Genre)r.Next(0, 3);
        if (Coin(r)) m.WTimestamp = TimestampValue(r);
        if (Coin(r)) m.WDuration = DurationValue(r);
        if (Coin(r)) m.WInt32 = r.Next(int.MinValue, int.MaxValue);
        if (Coin(r)) m.WInt64 = r.NextInt64(long.MinValue, long.MaxValue);
        if (Coin(r)) m.WUint32 = (uint)r.NextInt64(0, uint.MaxValue);
        if (Coin(r)) m.WUint64 = (ulong)r.NextInt64();
        if (Coin(r)) m.WBool = Coin(r);
        if (Coin(r)) m.WString = Text(r);
        if (Coin(r)) m.WBytes = Bytes(r);
        if (Coin(r)) m.WDouble = Double(r);
        if (Coin(r)) m.WFloat = Float(r);
        if (Coin(r)) m.WStruct = StructValue(r, 2);
        if (Coin(r)) m.WValue = ValueOf(r, 2);
        if (Coin(r)) m.WList = ListOf(r, 2);
        if (Coin(r)) m.WFieldMask = new FieldMask { Paths = { Enumerable.Range(0, Small(r)).Select(_ => MaskPath(r)) } };
        if (Coin(r)) m.WEmpty = new Empty();
        if (Coin(r)) m.WAny = r.Next(3) switch
        {
            0 => Any.Pack(NestedValue(r, 2)),
            1 => Any.Pack(TimestampValue(r)),
            _ => Any.Pack(ValueOf(r, 1)),
        };
        for (var i = Small(r); i > 0; i--) m.RTimestamp.Add(TimestampValue(r));
        for (var i = Small(r); i > 0; i--) m.MValue[Text(r)] = ValueOf(r, 1);
        return m;
    }

    private static bool Coin(Random r) => r.Next(2) == 0;

    private static int Small(Random r) => r.Next(4) == 0 ? r.Next(1, 5) : 0;

    private static double Double(Random r) => r.Next(12) switch
    {
        0 => double.NaN,
        1 => double.PositiveInfinity,
        2 => double.NegativeInfinity,
        3 => 0,
        4 => double.Epsilon,
        5 => double.MaxValue,
        6 => r.Next(-1000, 1000),
        _ => (r.NextDouble() - 0.5) * Math.Pow(10, r.Next(-300, 300)),
    };

    private static float Float(Random r) => r.Next(10) switch
    {
        0 => float.NaN,
        1 => float.NegativeInfinity,
        2 => float.MaxValue,
        3 => float.Epsilon,
        _ => (float)((r.NextDouble() - 0.5) * Math.Pow(10, r.Next(-30, 30))),
    };

    private static string Text(Random r)
    {
        var length = r.Next(0, 12);
        var chars = new List<string>();
        for (var i = 0; i < length; i++)
        {
            chars.Add(r.Next(6) switch
            {
                0 => ((char)r.Next(0, 32)).ToString(),
                1 => "\"\\/<>&'",
                2 => char.ConvertFromUtf32(r.Next(0x1F600, 0x1F650)),
                3 => ((char)r.Next(0xA0, 0xD7FF)).ToString(),
                _ => ((char)r.Next('a', 'z' + 1)).ToString(),
            });
        }

        return string.Concat(chars);
    }

    private static ByteString Bytes(Random r)
    {
        var bytes = new byte[r.Next(0, 20)];
        r.NextBytes(bytes);
        return ByteString.CopyFrom(bytes);
    }

    private static Nested NestedValue(Random r, int depth)
    {
        var n = new Nested { Value = r.Next(-5, 5) };
        for (var i = Small(r); i > 0; i--) n.Tags.Add(Text(r));
        if (depth > 0 && Coin(r)) n.Child = NestedValue(r, depth - 1);
        return n;
    }

    private static Timestamp TimestampValue(Random r) => new()
    {
        Seconds = r.NextInt64(-62135596800, 253402300799),
        Nanos = r.Next(4) switch { 0 => 0, 1 => r.Next(0, 1000) * 1_000_000, 2 => r.Next(0, 1_000_000) * 1000, _ => r.Next(0, 1_000_000_000) },
    };

    private static Duration DurationValue(Random r)
    {
        var seconds = r.NextInt64(-315576000000, 315576000000);
        var nanos = r.Next(0, 1_000_000_000);
        return new Duration { Seconds = seconds, Nanos = seconds < 0 ? -nanos : seconds == 0 && Coin(r) ? -nanos : nanos };
    }

    private static string MaskPath(Random r) => string.Join('.', Enumerable.Range(0, r.Next(1, 3)).Select(_ =>
        string.Join('_', Enumerable.Range(0, r.Next(1, 3)).Select(_ => new string((char)r.Next('a', 'z' + 1), r.Next(1, 4))))));

    private static Value ValueOf(Random r, int depth) => r.Next(depth > 0 ? 6 : 4) switch
    {
        0 => Value.ForNull(),
        1 => Value.ForNumber(r.Next(3) == 0 ? r.Next() : (r.NextDouble() - 0.5) * 1e10),
        2 => Value.ForString(Text(r)),
        3 => Value.ForBool(Coin(r)),
        4 => Value.ForStruct(StructValue(r, depth - 1)),
        _ => Value.ForList(ListOf(r, depth - 1).Values.ToArray()),
    };

    private static Struct StructValue(Random r, int depth)
    {
        var s = new Struct();
        for (var i = Small(r); i > 0; i--) s.Fields["k" + Text(r)] = ValueOf(r, depth);
        return s;
    }

    private static ListValue ListOf(Random r, int depth)
    {
        var l = new ListValue();
        for (var i = Small(r); i > 0; i--) l.Values.Add(ValueOf(r, depth));
        return l;
    }
}
