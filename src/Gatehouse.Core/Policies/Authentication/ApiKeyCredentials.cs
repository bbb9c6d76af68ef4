using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Policies.Authentication;

/// <summary>
/// The consumers' API keys, compiled: SHA-256 of each key to its consumer. A presented key is hashed and looked up
/// by its hash, then the stored hash is compared again with <see cref="CryptographicOperations.FixedTimeEquals"/>;
/// timing can at most reveal something about a hash, never about a key. Hand-written rather than an ASP.NET Core
/// AuthenticationHandler: the keys follow reloads, and a handler would be created for every request.
/// </summary>
internal sealed class ApiKeyCredentials
{
    public const string HashPrefix = "sha256:";

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    private readonly FrozenDictionary<string, (byte[] Hash, string Consumer)> _byHash;

    public ApiKeyCredentials(IEnumerable<ConsumerOptions> consumers) =>
        _byHash = consumers
            .SelectMany(c => c.ApiKeys.Select(k => (Hex: k[HashPrefix.Length..].ToLowerInvariant(), Consumer: c.Name)))
            .ToFrozenDictionary(e => e.Hex, e => (Convert.FromHexString(e.Hex), e.Consumer), StringComparer.Ordinal);

    public int Count => _byHash.Count;

    /// <summary>The consumer owning <paramref name="key"/>, or null.</summary>
    public string? FindConsumer(ReadOnlySpan<char> key)
    {
        if (key.IsEmpty || key.Length > 512)
        {
            return null;
        }

        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        var length = Encoding.UTF8.GetBytes(key, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..length], hash);
        return _byHash.TryGetValue(Convert.ToHexStringLower(hash), out var entry) && CryptographicOperations.FixedTimeEquals(entry.Hash, hash)
            ? entry.Consumer
            : null;
    }

    /// <summary>Null when <paramref name="entry"/> is a well-formed stored key; else what is wrong with it.</summary>
    internal static string? Validate(string entry) =>
        entry.StartsWith(HashPrefix, StringComparison.Ordinal) && entry.Length == HashPrefix.Length + 64
        && !entry.AsSpan(HashPrefix.Length).ContainsAnyExcept(HexDigits)
            ? null
            : "must be 'sha256:' followed by the 64 hex digits of the key's SHA-256 (printf %s KEY | sha256sum); keys are never stored in clear";
}
