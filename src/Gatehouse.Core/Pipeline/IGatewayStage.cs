using Gatehouse.Configuration;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Pipeline;

/// <summary>What a stage is built for: one route of one snapshot, or (with no route) the requests no route matched.</summary>
internal readonly record struct StageContext(GatewaySnapshot Snapshot, CompiledRoute? Route);

/// <summary>
/// One stage of the request flow, built once per route when a snapshot is compiled (Envoy builds a filter chain per
/// route the same way). A stage returns <c>next</c> itself for a route that does not use it, so an unused policy
/// costs nothing on that route; one that is used gets its compiled policy handed in here, so it looks nothing up per
/// request. Stages are singletons in DI (registered by their unit's <c>AddGatehouseXxx()</c>) and ordered in
/// <see cref="GatewayPipeline"/>.
/// </summary>
internal interface IGatewayStage
{
    RequestDelegate Build(StageContext context, RequestDelegate next);
}
