using System.Net;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.Time.Testing;

namespace Http.Resilience.Tests;

public class RetryBudgetTests
{
    private readonly FakeTimeProvider _clock = new();

    private RetryBudget Create(double ratio = 0.2, int minRetriesPerSecond = 0, int windowSeconds = 10)
        => new(new RetryBudgetOptions { Ratio = ratio, MinRetriesPerSecond = minRetriesPerSecond, Window = TimeSpan.FromSeconds(windowSeconds) }, _clock.TimestampFrequency);

    [Fact]
    public void Defaults_AreFinaglesAndOn()
    {
        var options = new RetryOptions().Budget;
        Assert.True(options.Enabled);
        Assert.Equal(0.2, options.Ratio);
        Assert.Equal(10, options.MinRetriesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Window);
    }

    [Fact]
    public void TryWithdraw_OneRetryPerFiveRequests()
    {
        var budget = Create();
        for (var i = 0; i < 100; i++)
        {
            budget.Deposit(_clock.GetTimestamp());
        }

        var granted = 0;
        while (budget.TryWithdraw(_clock.GetTimestamp()) && granted < 1000)
        {
            granted++;
        }

        Assert.Equal(20, granted);
    }

    [Fact]
    public void TryWithdraw_NoTraffic_TheReserveStillAllowsMinRetriesPerSecondTimesTheWindow()
    {
        var budget = Create(minRetriesPerSecond: 3, windowSeconds: 2);

        var granted = 0;
        while (budget.TryWithdraw(_clock.GetTimestamp()) && granted < 1000)
        {
            granted++;
        }

        Assert.Equal(6, granted);
    }

    [Fact]
    public void Deposits_ExpireAfterTheWindow()
    {
        var budget = Create();
        for (var i = 0; i < 50; i++)
        {
            budget.Deposit(_clock.GetTimestamp());
        }

        Assert.Equal(10, budget.Available(_clock.GetTimestamp()), 3);
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(10, budget.Available(_clock.GetTimestamp()), 3); // still inside the window
        _clock.Advance(TimeSpan.FromSeconds(5.5));
        Assert.Equal(0, budget.Available(_clock.GetTimestamp()), 3); // every bucket of them has slid out
    }

    [Fact]
    public void Withdrawals_ExpireToo_SoTheBudgetRefillsAfterAnOutage()
    {
        var budget = Create(minRetriesPerSecond: 1, windowSeconds: 10);
        while (budget.TryWithdraw(_clock.GetTimestamp()))
        {
        }

        Assert.False(budget.TryWithdraw(_clock.GetTimestamp()));
        _clock.Advance(TimeSpan.FromSeconds(11));
        Assert.True(budget.TryWithdraw(_clock.GetTimestamp()));
    }

    [Fact]
    public async Task Chain_SustainedFailures_AtMostOnePointTwoAttemptsPerRequestPlusTheReserve()
    {
        using var h = new ChainHarness(o =>
        {
            o.Retry.MaxRetries = 2;
            o.Retry.BaseDelay = TimeSpan.Zero;
            o.Retry.Budget.MinRetriesPerSecond = 1; // a reserve of 10 retries over the 10 s window
            o.CircuitBreaker.Enabled = false; // the budget alone: no circuit to stop the storm
        });
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable);
        var client = h.CreateClient();

        for (var i = 0; i < 500; i++)
        {
            using var response = await client.GetAsync("/");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode); // the last outcome, as if retries had run out
        }

        // Without the budget: 1,500 attempts. With it: 500 + 0.2 * 500 + 10 of reserve.
        Assert.InRange(h.Stub.CallCount, 500, 500 + 100 + 10);
    }

    [Fact]
    public async Task Chain_HealthyTraffic_EarnsRetriesForTheOccasionalFailure()
    {
        using var h = new ChainHarness(o =>
        {
            o.Retry.BaseDelay = TimeSpan.Zero;
            o.Retry.Budget.MinRetriesPerSecond = 0;
        });
        var client = h.CreateClient();
        for (var i = 0; i < 20; i++)
        {
            using var _ = await client.GetAsync("/"); // 20 good requests deposit 4 retries
        }

        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.OK);
        using var response = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(22, h.Stub.CallCount);
    }

    [Fact]
    public async Task Chain_BudgetOff_EveryRetryIsSent()
    {
        using var h = new ChainHarness(o =>
        {
            o.Retry.BaseDelay = TimeSpan.Zero;
            o.Retry.Budget.Enabled = false;
            o.CircuitBreaker.Enabled = false;
        });
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable);
        var client = h.CreateClient();
        for (var i = 0; i < 100; i++)
        {
            using var _ = await client.GetAsync("/");
        }

        Assert.Equal(300, h.Stub.CallCount);
    }
}
