using Gatehouse.Configuration;

namespace Gatehouse.Policies.RequestHeaders;

/// <summary><c>requestHeaders.keep</c>: header names, and only ones the gateway would otherwise remove.</summary>
internal sealed class RequestHeadersOptionsValidator : IGatewayOptionsValidator
{
    public void Validate(GatewayOptions options, ConfigDiagnostics diagnostics)
    {
        var section = options.RequestHeaders;
        foreach (var name in section.Keep)
        {
            if (!ValueParsers.IsHeaderName(name))
            {
                diagnostics.Error(section.PositionOf("keep"), $"requestHeaders.keep: '{name}' is not a header name");
            }
            else if (!RequestHeaderFilter.Overrides.Concat(RequestHeaderFilter.ClientClaims).Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                diagnostics.Error(section.PositionOf("keep"),
                    $"requestHeaders.keep: '{name}' is not removed in the first place; keep lists one of: {string.Join(", ", RequestHeaderFilter.Overrides.Concat(RequestHeaderFilter.ClientClaims))}");
            }
        }
    }
}
