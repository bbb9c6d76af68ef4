using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Pipeline;

/// <summary>Chains the stages named in <see cref="GatewayPipeline"/>, in that order, for one route.</summary>
internal sealed class StagePlan(IServiceProvider services, StageContext context)
{
    private readonly List<IGatewayStage> _stages = [];

    public StagePlan Then<TStage>()
        where TStage : class, IGatewayStage
    {
        _stages.Add(services.GetRequiredService<TStage>());
        return this;
    }

    public RequestDelegate Build(RequestDelegate terminal)
    {
        var next = terminal;
        for (var i = _stages.Count - 1; i >= 0; i--)
        {
            next = _stages[i].Build(context, next);
        }

        return next;
    }
}
