using System.Collections.Frozen;

namespace Gatehouse.Policies.RequestHeaders;

/// <summary>
/// The client-sent request headers removed before routing, so that routing, authentication, rate limits, the cache
/// key and the backend all see the same request, and none of them can be steered by a header that only a proxy in
/// front of the gateway should set:
/// <list type="bullet">
/// <item>URL and method overrides (<c>X-Original-URL</c>, <c>X-HTTP-Method-Override</c>, …), always: frameworks that
/// honour them route on a path or method the gateway's rules never saw.</item>
/// <item>Claims of a client address or of the scheme, host and port the client used (<c>X-Real-IP</c>,
/// <c>True-Client-IP</c>, <c>X-Forwarded-Port</c>, <c>X-Host</c>, …), unless the peer is one of
/// <c>trustedProxies</c>: a backend that builds URLs or logs from them would take the client's word, and a cached
/// answer built from them would be served to everyone (web cache poisoning).</item>
/// <item>Names with <c>_</c>, by default: CGI, WSGI, PHP and Rack map <c>-</c> and <c>_</c> to the same variable,
/// so <c>X_Consumer</c> would reach a backend as the identity header the gateway strips.</item>
/// </list>
/// <c>X-Forwarded-For</c>, <c>-Proto</c>, <c>-Host</c>, <c>-Prefix</c> and <c>Forwarded</c> are not listed: the
/// forwarder replaces them with the gateway's own.
/// </summary>
internal sealed class RequestHeaderFilter
{
    /// <summary>Removed from every request.</summary>
    internal static readonly string[] Overrides =
    [
        "X-Original-URL", "X-Rewrite-URL", "X-Override-URL", "X-Original-URI",
        "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override",
    ];

    /// <summary>Removed unless the peer is a trusted proxy.</summary>
    internal static readonly string[] ClientClaims =
    [
        "X-Real-IP", "X-Client-IP", "True-Client-IP", "Client-IP", "X-Cluster-Client-IP", "CF-Connecting-IP",
        "Fastly-Client-IP", "X-Originating-IP", "X-Remote-IP", "X-Remote-Addr",
        "X-Forwarded-Port", "X-Forwarded-Scheme", "X-Forwarded-Ssl", "X-Forwarded-Server", "X-Forwarded-Protocol",
        "X-Url-Scheme", "Front-End-Https", "X-Host", "X-Original-Host", "X-Forwarded",
    ];

    private readonly FrozenDictionary<string, bool> _listed;

    public RequestHeaderFilter(RequestHeadersOptions options)
    {
        Underscores = options.Underscores;
        var keep = options.Keep.ToHashSet(StringComparer.OrdinalIgnoreCase);
        _listed = Overrides.Select(name => (name, always: true))
            .Concat(ClientClaims.Select(name => (name, always: false)))
            .Where(entry => !keep.Contains(entry.name))
            .ToFrozenDictionary(entry => entry.name, entry => entry.always, StringComparer.OrdinalIgnoreCase);
    }

    public UnderscoreHeaders Underscores { get; }

    /// <summary>True when a header of this name must not pass, given whether the peer is a trusted proxy.</summary>
    public bool Removes(string name, bool trustedPeer) =>
        (_listed.TryGetValue(name, out var always) && (always || !trustedPeer))
        || (Underscores == UnderscoreHeaders.Drop && name.Contains('_'));

    /// <summary>True when the request must be refused for this header name.</summary>
    public bool Refuses(string name) => Underscores == UnderscoreHeaders.Reject && name.Contains('_');
}
