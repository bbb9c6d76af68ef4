using Gatehouse.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using RouteOptions = Gatehouse.Configuration.RouteOptions;

namespace Gatehouse.Routing;

/// <summary>A request as <c>gatehouse explain</c> and the admin API describe it.</summary>
public sealed record ExplainRequest(string Method, Uri Url, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public string Host => Url.IsDefaultPort ? Url.Host : $"{Url.Host}:{Url.Port}";
}

/// <summary>
/// One route's match conditions, evaluated the way YARP and ASP.NET Core routing evaluate them, so that
/// <c>explain</c> can say for each route the first condition that failed. Not used on the request path: there
/// YARP's own matcher decides (a functional test keeps the two in agreement).
/// </summary>
internal sealed class RouteMatcher
{
    private static readonly DefaultInlineConstraintResolver ConstraintResolver = new(
        Microsoft.Extensions.Options.Options.Create(CreateRoutingOptions()),
        new ServiceCollection().BuildServiceProvider());

    private readonly TemplateMatcher _template;
    private readonly List<(string Name, IRouteConstraint Constraint)> _constraints = [];

    public RouteMatcher(RouteOptions route)
    {
        Route = route;
        Pattern = RoutePatternFactory.Parse(route.Match.Path);
        _template = new TemplateMatcher(new RouteTemplate(Pattern), new RouteValueDictionary(Pattern.Defaults));
        foreach (var (name, policies) in Pattern.ParameterPolicies)
        {
            foreach (var policy in policies)
            {
                if (policy.Content is null)
                {
                    continue;
                }

                // An unknown constraint would pass YARP's validation and then break the router when it builds.
                var constraint = ConstraintResolver.ResolveConstraint(policy.Content)
                    ?? throw new InvalidOperationException($"'{policy.Content}' on '{{{name}}}' is not a known route constraint (int, long, guid, bool, alpha, min(n), max(n), range(a,b), length(n), minlength(n), maxlength(n), regex(...), ...)");
                _constraints.Add((name, constraint));
            }
        }
    }

    public RouteOptions Route { get; }

    /// <summary>
    /// The routing options of the gateway app too: ASP.NET Core's slim host leaves <c>regex</c> as a stub that
    /// throws, so it is registered here and in the app alike, and explain agrees with the router.
    /// </summary>
    internal static Microsoft.AspNetCore.Routing.RouteOptions CreateRoutingOptions()
    {
        var options = new Microsoft.AspNetCore.Routing.RouteOptions();
        ConfigureRouting(options);
        return options;
    }

    internal static void ConfigureRouting(Microsoft.AspNetCore.Routing.RouteOptions options) =>
        options.SetParameterPolicy<Microsoft.AspNetCore.Routing.Constraints.RegexInlineRouteConstraint>("regex");

    public RoutePattern Pattern { get; }

    /// <summary>Null when the request matches; otherwise the first failed condition in the order path, host, method, header, query.</summary>
    public string? Mismatch(ExplainRequest request)
    {
        var values = new RouteValueDictionary();
        var path = new PathString(Uri.UnescapeDataString(request.Url.AbsolutePath));
        if (!_template.TryMatch(path, values))
        {
            return $"path '{path}' does not match '{Route.Match.Path}'";
        }

        foreach (var (name, constraint) in _constraints)
        {
            if (!constraint.Match(null, null, name, values, RouteDirection.IncomingRequest))
            {
                return $"path parameter '{name}' = '{values[name]}' fails its constraint in '{Route.Match.Path}'";
            }
        }

        if (Route.Match.Hosts.Count > 0 && !Route.Match.Hosts.Any(h => HostMatches(h, request.Url.Host, request.Url.Port)))
        {
            return $"host '{request.Host}' is not one of {string.Join(", ", Route.Match.Hosts)}";
        }

        if (Route.Match.Methods.Count > 0 && !Route.Match.Methods.Contains(request.Method, StringComparer.OrdinalIgnoreCase))
        {
            return $"method {request.Method} is not one of {string.Join(", ", Route.Match.Methods)}";
        }

        foreach (var condition in Route.Match.Headers)
        {
            var present = request.Headers.Where(h => h.Key.Equals(condition.Name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToArray();
            if (!ValueMatches(condition, present))
            {
                return $"header {condition.Name} {Describe(condition)}";
            }
        }

        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(request.Url.Query);
        foreach (var condition in Route.Match.Query)
        {
            var present = query.TryGetValue(condition.Name, out var v) ? v.ToArray() : [];
            if (!ValueMatches(condition, present!))
            {
                return $"query parameter {condition.Name} {Describe(condition)}";
            }
        }

        return null;
    }

    /// <summary>YARP host semantics: case-insensitive, optional port, <c>*.</c> matches any sub-domain (not the bare domain).</summary>
    internal static bool HostMatches(string pattern, string host, int port)
    {
        var patternHost = pattern;
        var colon = pattern.LastIndexOf(':');
        if (colon > 0 && !pattern.EndsWith(']'))
        {
            if (!int.TryParse(pattern.AsSpan(colon + 1), out var patternPort) || patternPort != port)
            {
                return pattern[(colon + 1)..] == "*" && HostMatches(pattern[..colon], host, port);
            }

            patternHost = pattern[..colon];
        }

        if (patternHost == "*")
        {
            return true;
        }

        if (patternHost.StartsWith("*.", StringComparison.Ordinal))
        {
            return host.EndsWith(patternHost[1..], StringComparison.OrdinalIgnoreCase) && host.Length > patternHost.Length - 1;
        }

        return string.Equals(patternHost, host, StringComparison.OrdinalIgnoreCase);
    }

    private static bool ValueMatches(ValueMatchOptions condition, string[] present)
    {
        var comparison = condition.CaseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        return condition.Mode switch
        {
            ValueMatchMode.Exists => present.Length > 0,
            ValueMatchMode.NotExists => present.Length == 0,
            ValueMatchMode.Exact => present.Any(p => condition.Values.Any(v => string.Equals(p, v, comparison))),
            ValueMatchMode.Prefix => present.Any(p => condition.Values.Any(v => p.StartsWith(v, comparison))),
            ValueMatchMode.Contains => present.Any(p => condition.Values.Any(v => p.Contains(v, comparison))),
            ValueMatchMode.NotContains => present.Length == 0 || present.All(p => !condition.Values.Any(v => p.Contains(v, comparison))),
            _ => false,
        };
    }

    private static string Describe(ValueMatchOptions condition) => condition.Mode switch
    {
        ValueMatchMode.Exists => "is missing",
        ValueMatchMode.NotExists => "is present but must be absent",
        ValueMatchMode.Prefix => $"does not start with {string.Join(" or ", condition.Values)}",
        ValueMatchMode.Contains => $"does not contain {string.Join(" or ", condition.Values)}",
        ValueMatchMode.NotContains => $"contains {string.Join(" or ", condition.Values)}",
        _ => $"is not {string.Join(" or ", condition.Values)}",
    };

    /// <summary>
    /// True when every request <paramref name="later"/> matches is also matched by <paramref name="earlier"/>.
    /// Conservative: when in doubt (constraints, complex segments) it answers false, so no valid route is refused.
    /// </summary>
    public static bool Covers(RouteMatcher earlier, RouteMatcher later)
    {
        var a = earlier.Route.Match;
        var b = later.Route.Match;
        if (!PathCovers(earlier.Pattern, later.Pattern))
        {
            return false;
        }

        if (a.Methods.Count > 0 && (b.Methods.Count == 0 || !b.Methods.All(m => a.Methods.Contains(m, StringComparer.OrdinalIgnoreCase))))
        {
            return false;
        }

        if (a.Hosts.Count > 0 && (b.Hosts.Count == 0 || !b.Hosts.All(h => a.Hosts.Contains(h, StringComparer.OrdinalIgnoreCase))))
        {
            return false;
        }

        return a.Headers.All(c => b.Headers.Any(d => SameCondition(c, d))) && a.Query.All(c => b.Query.Any(d => SameCondition(c, d)));
    }

    private static bool SameCondition(ValueMatchOptions a, ValueMatchOptions b) =>
        a.Name.Equals(b.Name, StringComparison.OrdinalIgnoreCase) && a.Mode == b.Mode && a.CaseSensitive == b.CaseSensitive
        && a.Values.Count == b.Values.Count && a.Values.Zip(b.Values).All(p => p.First == p.Second);

    private static bool PathCovers(RoutePattern a, RoutePattern b)
    {
        for (var i = 0; i < a.PathSegments.Count; i++)
        {
            var segment = a.PathSegments[i];
            if (!segment.IsSimple)
            {
                return false;
            }

            var part = segment.Parts[0];
            if (part is RoutePatternParameterPart { IsCatchAll: true } catchAll)
            {
                // A catch-all with a constraint may refuse what the later route accepts.
                return catchAll.ParameterPolicies.Count == 0 && i == a.PathSegments.Count - 1 && b.PathSegments.Count >= i;
            }

            if (i >= b.PathSegments.Count)
            {
                return false;
            }

            var other = b.PathSegments[i];
            switch (part)
            {
                case RoutePatternLiteralPart literal:
                    if (!other.IsSimple || other.Parts[0] is not RoutePatternLiteralPart otherLiteral
                        || !string.Equals(literal.Content, otherLiteral.Content, StringComparison.OrdinalIgnoreCase))
                    {
                        return false;
                    }

                    break;
                case RoutePatternParameterPart parameter:
                    if (parameter.ParameterPolicies.Count > 0 || parameter.IsOptional || parameter.Default is not null)
                    {
                        return false;
                    }

                    if (other.Parts.Any(p => p is RoutePatternParameterPart { IsCatchAll: true } || p is RoutePatternParameterPart { IsOptional: true }))
                    {
                        return false;
                    }

                    break;
                default:
                    return false;
            }
        }

        return a.PathSegments.Count == b.PathSegments.Count;
    }
}
