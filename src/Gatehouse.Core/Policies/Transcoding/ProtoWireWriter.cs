using System.Buffers;
using System.Buffers.Binary;

namespace Gatehouse.Policies.Transcoding;

/// <summary>
/// Writes protobuf wire format into one pooled, growable buffer. Hand-written rather than Google.Protobuf's
/// CodedOutputStream because transcoding JSON is single-pass: a nested message's length is known only after its
/// fields are written, so its length prefix is back-patched in place (one byte reserved, the body moved only in the
/// rare case the length needs more), instead of sizing every message first or chaining temporary streams.
/// </summary>
internal sealed class ProtoWireWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _length;

    public ProtoWireWriter(int initialCapacity = 1024) => _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    /// <summary>Starts over, keeping the buffer; <paramref name="reserve"/> bytes are left free at the front (a gRPC frame header).</summary>
    public void Reset(int reserve = 0)
    {
        Ensure(reserve);
        _length = reserve;
    }

    /// <summary>The pooled array itself (valid until the next write or <see cref="Dispose"/>), to stream it without a copy.</summary>
    public byte[] GetBufferUnsafe() => _buffer;

    /// <summary>The buffer itself, for writing a frame header into the reserved front.</summary>
    public Span<byte> Front(int count) => _buffer.AsSpan(0, count);

    public void WriteTag(int fieldNumber, WireType type) => WriteVarint(((uint)fieldNumber << 3) | (uint)type);

    public void WriteVarint(ulong value)
    {
        Ensure(10);
        var span = _buffer.AsSpan(_length);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        _length += i;
    }

    public void WriteFixed32(uint value)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_length), value);
        _length += 4;
    }

    public void WriteFixed64(ulong value)
    {
        Ensure(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_length), value);
        _length += 8;
    }

    public void WriteLengthDelimited(ReadOnlySpan<byte> bytes)
    {
        WriteVarint((ulong)bytes.Length);
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>Space for <paramref name="maxBytes"/> bytes written directly, then <see cref="Advance"/>.</summary>
    public Span<byte> GetSpan(int maxBytes)
    {
        Ensure(maxBytes);
        return _buffer.AsSpan(_length);
    }

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(Math.Max(sizeHint, 256));
        return _buffer.AsMemory(_length);
    }

    Span<byte> IBufferWriter<byte>.GetSpan(int sizeHint)
    {
        Ensure(Math.Max(sizeHint, 256));
        return _buffer.AsSpan(_length);
    }

    /// <summary>Reserves one byte for a length prefix; returns where the body starts.</summary>
    public int BeginLengthDelimited()
    {
        Ensure(1);
        _length++;
        return _length;
    }

    public void EndLengthDelimited(int bodyStart)
    {
        var bodyLength = _length - bodyStart;
        if (bodyLength < 0x80)
        {
            _buffer[bodyStart - 1] = (byte)bodyLength;
            return;
        }

        var prefix = VarintSize((ulong)bodyLength);
        Ensure(prefix - 1);
        _buffer.AsSpan(bodyStart, bodyLength).CopyTo(_buffer.AsSpan(bodyStart + prefix - 1));
        var at = bodyStart - 1;
        var value = (uint)bodyLength;
        while (value >= 0x80)
        {
            _buffer[at++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _buffer[at] = (byte)value;
        _length += prefix - 1;
    }

    private static int VarintSize(ulong value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private void Ensure(int more)
    {
        if (_length + more <= _buffer.Length)
        {
            return;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + more));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}

internal enum WireType : uint
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>Reads protobuf wire format from a span (a ref struct: no allocation, no stream).</summary>
internal ref struct ProtoWireReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;

    public int Position { get; private set; }

    public readonly bool End => Position >= _data.Length;

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (Position >= _data.Length)
            {
                throw new TranscodingException("truncated protobuf varint");
            }

            var b = _data[Position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new TranscodingException("malformed protobuf varint");
    }

    public uint ReadFixed32()
    {
        if (Position + 4 > _data.Length)
        {
            throw new TranscodingException("truncated protobuf fixed32");
        }

        var value = BinaryPrimitives.ReadUInt32LittleEndian(_data[Position..]);
        Position += 4;
        return value;
    }

    public ulong ReadFixed64()
    {
        if (Position + 8 > _data.Length)
        {
            throw new TranscodingException("truncated protobuf fixed64");
        }

        var value = BinaryPrimitives.ReadUInt64LittleEndian(_data[Position..]);
        Position += 8;
        return value;
    }

    public ReadOnlySpan<byte> ReadLengthDelimited()
    {
        var length = ReadVarint();
        if (length > (ulong)(_data.Length - Position))
        {
            throw new TranscodingException("truncated protobuf length-delimited field");
        }

        var span = _data.Slice(Position, (int)length);
        Position += (int)length;
        return span;
    }

    /// <summary>The value of the field whose tag was just read: a length-delimited field's payload, any other field's encoded bytes.</summary>
    public ReadOnlySpan<byte> ReadValue(WireType type)
    {
        if (type == WireType.LengthDelimited)
        {
            return ReadLengthDelimited();
        }

        var start = Position;
        Skip(type);
        return _data[start..Position];
    }

    /// <summary>Skips one field's value; groups (proto2 only) are refused.</summary>
    public void Skip(WireType type)
    {
        switch (type)
        {
            case WireType.Varint:
                ReadVarint();
                break;
            case WireType.Fixed64:
                ReadFixed64();
                break;
            case WireType.Fixed32:
                ReadFixed32();
                break;
            case WireType.LengthDelimited:
                ReadLengthDelimited();
                break;
            default:
                throw new TranscodingException($"unsupported protobuf wire type {(int)type}");
        }
    }
}

/// <summary>A message that cannot be transcoded; the text is safe to show to the caller.</summary>
internal sealed class TranscodingException(string message) : Exception(message);
