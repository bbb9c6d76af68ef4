namespace Gatehouse.Configuration;

/// <summary>
/// One policy's rules over the loaded options that a single key cannot check (its references to other sections,
/// its cross-field limits), reported with the key's position. Each unit registers its own in its
/// <c>AddGatehouseXxx()</c>, as YARP registers an <c>IRouteValidator</c> per feature; <see cref="ConfigLoader"/>
/// runs them all after the central rules of <see cref="GatewayOptionsValidator"/> (listeners, limits, services,
/// routes, matching), so one run still reports every error.
/// </summary>
internal interface IGatewayOptionsValidator
{
    void Validate(GatewayOptions options, ConfigDiagnostics diagnostics);
}
