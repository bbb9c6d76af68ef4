using System.Text;
using Gatehouse.Configuration;

namespace Gatehouse.Routing;

/// <summary>What the gateway would do with one request, and why every other route did not take it.</summary>
public sealed record ExplainResult(
    ExplainRequest Request,
    string? MatchedRoute,
    string? Service,
    int Status,
    IReadOnlyList<string> Allow,
    IReadOnlyList<(string Route, int Line, string Reason)> NotMatched)
{
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(Request.Method).Append(' ').Append(Request.Url).AppendLine();
        if (MatchedRoute is not null)
        {
            text.Append("  matched route '").Append(MatchedRoute).Append("' -> service '").Append(Service).AppendLine("'");
        }
        else if (Status == 405)
        {
            text.Append("  405 Method Not Allowed: the path matches, but no route accepts ").Append(Request.Method)
                .Append("; Allow: ").AppendJoin(", ", Allow).AppendLine();
        }
        else
        {
            text.AppendLine("  404 Not Found: no route matches");
        }

        foreach (var (route, line, reason) in NotMatched)
        {
            text.Append("  - route '").Append(route).Append("' (line ").Append(line).Append("): ").AppendLine(reason);
        }

        return text.ToString();
    }
}

/// <summary>The logic behind <c>gatehouse explain</c> and the admin API's explain: first matching route in file order.</summary>
public static class RouteExplainer
{
    public static ExplainResult Explain(GatewayOptions options, ExplainRequest request)
    {
        string? matched = null;
        string? service = null;
        var notMatched = new List<(string, int, string)>();
        var pathMatchedMethods = new List<IReadOnlyList<string>>();
        foreach (var route in options.Routes)
        {
            var matcher = new RouteMatcher(route);
            var reason = matcher.Mismatch(request);
            if (reason is null && matched is null)
            {
                matched = route.Name;
                service = route.Service;
                continue;
            }

            if (!(reason ?? "").StartsWith("path ", StringComparison.Ordinal))
            {
                pathMatchedMethods.Add(route.Match.Methods);
            }

            notMatched.Add((route.Name, route.Position.Line, reason ?? $"route '{matched}' comes first and matches too"));
        }

        if (matched is not null)
        {
            return new ExplainResult(request, matched, service, 200, [], notMatched);
        }

        // ASP.NET Core routing decides the method before host and header conditions: when routes match the path
        // but none accepts the method, the answer is 405 with the union of their methods.
        var methodRefused = pathMatchedMethods.Count > 0
            && pathMatchedMethods.All(m => m.Count > 0 && !m.Contains(request.Method, StringComparer.OrdinalIgnoreCase));
        return methodRefused
            ? new ExplainResult(request, null, null, 405, pathMatchedMethods.SelectMany(m => m).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList(), notMatched)
            : new ExplainResult(request, null, null, 404, [], notMatched);
    }
}
