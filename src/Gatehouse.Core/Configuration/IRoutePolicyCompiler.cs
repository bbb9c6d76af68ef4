namespace Gatehouse.Configuration;

/// <summary>What a route policy's compiler is given: the whole config, the route, and the runtime objects of the snapshot being compiled.</summary>
internal readonly record struct RouteCompilation(GatewayOptions Options, RouteOptions Route, RuntimeObjects Runtime);

/// <summary>
/// Turns one route's options into its policy's compiled form, complete and immutable, or null when the route does not
/// use the policy. The result travels on the route (<c>CompiledRoute.Policy&lt;T&gt;()</c>) and as its own item of the
/// route's endpoint metadata (as YARP's ProxyEndpointFactory adds one item per route feature), where the policy's
/// stage and transforms find it when they are built. Registered by the unit's <c>AddGatehouseXxx()</c>; a new route
/// policy needs no property on <c>CompiledRoute</c> and no line in <see cref="GatewayCompiler"/>.
/// </summary>
internal interface IRoutePolicyCompiler
{
    ValueTask<object?> CompileAsync(RouteCompilation compilation);
}
