using System.Collections.Frozen;
using System.Security.Claims;

namespace Gatehouse.Policies.Authentication;

/// <summary>An authenticated caller, built once per credential (and cached with a validated token): its principal and granted scopes.</summary>
internal sealed class Caller(ClaimsIdentity identity)
{
    public ClaimsPrincipal Principal { get; } = new(identity);

    /// <summary>From <c>scope</c> (space-delimited, RFC 8693) and <c>scp</c> (array or space-delimited).</summary>
    public FrozenSet<string> Scopes { get; } = identity.FindAll("scope").Concat(identity.FindAll("scp"))
        .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .ToFrozenSet(StringComparer.Ordinal);

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
}
