using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using System.Security.Claims;
using System.Text.Json;

namespace Gatehouse.Policies.Authentication;

/// <summary>An authenticated caller, built once per credential (and cached with a validated token): its principal and granted scopes.</summary>
internal sealed class Caller
{
    /// <param name="identity">The caller's claims.</param>
    /// <param name="source">Who vouched for them: <c>apiKey</c>, or the identity provider's name (see <see cref="Source"/>).</param>
    public Caller(ClaimsIdentity identity, string source)
    {
        Principal = new CallerPrincipal(identity, this);
        Source = source;
        Scopes = identity.FindAll("scope").Concat(identity.FindAll("scp"))
            .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToFrozenSet(StringComparer.Ordinal);
    }

    private readonly ConcurrentDictionary<string, string[]> _paths = new(StringComparer.Ordinal);

    /// <summary>Set as <c>HttpContext.User</c>; later stages (rate limits) find the caller from it without another lookup.</summary>
    public CallerPrincipal Principal { get; }

    /// <summary>The consumer name for API-key callers, else the token's <c>sub</c>; null when neither is there.</summary>
    public string? Consumer => ValuesAt("consumer") is [var consumer, ..] ? consumer : ValuesAt("sub") is [var sub, ..] ? sub : null;

    /// <summary>
    /// Who vouched for the caller: <c>apiKey</c> for the configured consumers, else the identity provider's name and
    /// issuer (the name alone could be given to another issuer by a reload while the cache keeps its entries).
    /// </summary>
    public string Source { get; }

    private string? _qualifiedConsumer;

    /// <summary>
    /// <see cref="Consumer"/> qualified by <see cref="Source"/>, so that API-key consumer <c>x</c> and subject <c>x</c>
    /// of each identity provider are different callers; null when there is no consumer. Made once per caller (a
    /// validated token's caller is cached with it). The source's length comes first, so no two (source, consumer)
    /// pairs give the same text.
    /// </summary>
    public string? QualifiedConsumer => _qualifiedConsumer ??= Consumer is { } consumer
        ? string.Create(CultureInfo.InvariantCulture, $"{Source.Length}:{Source}{consumer}")
        : null;

    /// <summary>From <c>scope</c> (space-delimited, RFC 8693) and <c>scp</c> (array or space-delimited).</summary>
    public FrozenSet<string> Scopes { get; }

    /// <summary>The first of <paramref name="required"/> the caller lacks, or null.</summary>
    public string? MissingScope(string[] required)
    {
        foreach (var scope in required)
        {
            if (!Scopes.Contains(scope))
            {
                return scope;
            }
        }

        return null;
    }

    /// <summary>
    /// The values at a claim path: <c>tenant</c>, or a nested one such as <c>realm_access.roles</c> (JSON claims are
    /// walked; arrays give all their items; space-delimited strings are not split). Remembered per path.
    /// </summary>
    public string[] ValuesAt(string path) => _paths.GetOrAdd(path, Resolve);

    private string[] Resolve(string path)
    {
        var dot = path.IndexOf('.', StringComparison.Ordinal);
        var type = dot < 0 ? path : path[..dot];
        var rest = dot < 0 ? [] : path[(dot + 1)..].Split('.');
        var values = new List<string>();
        foreach (var claim in Principal.FindAll(type))
        {
            if (rest.Length == 0 && claim.ValueType is not ("JSON" or "JSON_ARRAY"))
            {
                values.Add(claim.Value);
                continue;
            }

            try
            {
                using var json = JsonDocument.Parse(claim.Value);
                Collect(json.RootElement, rest, 0, values);
            }
            catch (JsonException)
            {
                // A plain string where the path expected an object: nothing there.
            }
        }

        return values.ToArray();
    }

    private static void Collect(JsonElement element, string[] path, int index, List<string> values)
    {
        if (index == path.Length)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        Collect(item, path, index, values);
                    }

                    break;
                case JsonValueKind.String:
                    values.Add(element.GetString()!);
                    break;
                case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    values.Add(element.GetRawText());
                    break;
            }

            return;
        }

        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(path[index], out var child))
        {
            Collect(child, path, index + 1, values);
        }
    }
}

/// <summary>The authenticated caller's principal, pointing back at its <see cref="Caller"/> and the claim values cached there.</summary>
internal sealed class CallerPrincipal(ClaimsIdentity identity, Caller caller) : ClaimsPrincipal(identity)
{
    public Caller Caller { get; } = caller;
}
