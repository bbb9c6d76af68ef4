using Gatehouse.Core.Tests.Common;
using Gatehouse.Policies.Resilience;

namespace Gatehouse.Core.Tests.Policies.Resilience;

public class RetryBudgetTests
{
    private static (RetryBudget Budget, ManualTime Time) Create(double share, int floor)
    {
        var time = new ManualTime();
        return (new RetryBudget(new RetryOptions { Budget = share, MinRetriesPerSecond = floor }, time), time);
    }

    [Fact]
    public void Storm_RetriesCappedAtShareOfRequests()
    {
        var (budget, _) = Create(0.2, 0);
        var retries = 0;

        for (var i = 0; i < 1000; i++)
        {
            budget.OnRequest();
            while (budget.TryRetry())
            {
                retries++;
            }
        }

        Assert.Equal(200, retries);
    }

    [Fact]
    public void Floor_QuietServiceCanStillRetry()
    {
        var (budget, _) = Create(0.2, 3);
        budget.OnRequest();

        var allowed = 0;
        while (budget.TryRetry())
        {
            allowed++;
        }

        // 20% of one request plus 3 per second over the 10-second window.
        Assert.Equal(30, allowed);
    }

    [Fact]
    public void ZeroBudgetNoFloor_NeverRetries()
    {
        var (budget, _) = Create(0, 0);
        for (var i = 0; i < 100; i++)
        {
            budget.OnRequest();
        }

        Assert.False(budget.TryRetry());
    }

    [Fact]
    public void SpentBudget_ComesBackWhenTheWindowMoves()
    {
        var (budget, time) = Create(0.5, 0);
        for (var i = 0; i < 10; i++)
        {
            budget.OnRequest();
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.True(budget.TryRetry());
        }

        Assert.False(budget.TryRetry());

        // Past the window, old retries are forgotten along with old requests; new traffic earns new retries.
        time.Advance(RetryBudget.Window + TimeSpan.FromSeconds(1));
        budget.OnRequest();
        budget.OnRequest();
        Assert.True(budget.TryRetry());
        Assert.False(budget.TryRetry());
    }
}
