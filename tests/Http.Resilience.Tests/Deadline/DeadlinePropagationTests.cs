using System.Net;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests;

public class DeadlinePropagationTests
{
    [Fact]
    public async Task Outgoing_EachAttemptCarriesTheTimeItWillBeWaitedForLessTheMargin()
    {
        using var h = new ChainHarness(o =>
        {
            o.Deadline = TimeSpan.FromSeconds(3);
            o.Retry.BaseDelay = TimeSpan.Zero;
            o.DeadlinePropagation.Enabled = true;
        });
        h.Stub.ThenHang().ThenStatus(HttpStatusCode.OK);
        var send = h.CreateClient().GetAsync("/");
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromSeconds(2));

        using var response = await send;
        Assert.Equal("1900", h.Stub.Calls[0].Headers["X-Request-Deadline-Ms"]); // min(2 s attempt, 3 s budget) - 100 ms
        Assert.Equal("900", h.Stub.Calls[1].Headers["X-Request-Deadline-Ms"]); // 1 s of budget left - 100 ms
    }

    [Fact]
    public async Task Outgoing_OffByDefault()
    {
        using var h = new ChainHarness();
        using var response = await h.CreateClient().GetAsync("/");

        Assert.DoesNotContain("X-Request-Deadline-Ms", h.Stub.Calls[0].Headers.Keys);
    }

    [Fact]
    public async Task Inherited_ShortensTheBudgetOfEveryCallMadeInside()
    {
        using var h = new ChainHarness();
        h.Stub.ThenHang();
        Task<HttpResponseMessage> send;
        using (InheritedDeadline.Begin(TimeSpan.FromMilliseconds(1500), h.Clock))
        {
            send = h.CreateClient().GetAsync("/");
        }

        Assert.Equal(TimeSpan.FromMilliseconds(1500), await h.Clock.NextTimerAsync()); // the attempt's: min(2 s, budget min(10 s, 1.5 s inherited))
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromMilliseconds(1500));

        var ex = await Assert.ThrowsAsync<DeadlineExceededException>(() => send);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), ex.Deadline);
        Assert.Null(InheritedDeadline.TimeLeft); // the scope ended
    }

    [Fact]
    public async Task Inherited_AlreadySpent_SendsNothing()
    {
        using var h = new ChainHarness();
        using (InheritedDeadline.Begin(TimeSpan.FromSeconds(1), h.Clock))
        {
            h.Clock.Advance(TimeSpan.FromSeconds(1));
            await Assert.ThrowsAsync<DeadlineExceededException>(() => h.CreateClient().GetAsync("/"));
        }

        Assert.Equal(0, h.Stub.CallCount);
    }

    [Fact]
    public void Inherited_NestedScopes_TheTighterWins()
    {
        var clock = new TestClock();
        using (InheritedDeadline.Begin(TimeSpan.FromSeconds(2), clock))
        {
            using (InheritedDeadline.Begin(TimeSpan.FromSeconds(5), clock))
            {
                Assert.Equal(TimeSpan.FromSeconds(2), InheritedDeadline.TimeLeft);
            }

            clock.Advance(TimeSpan.FromMilliseconds(500));
            Assert.Equal(TimeSpan.FromMilliseconds(1500), InheritedDeadline.TimeLeft);
        }

        Assert.Null(InheritedDeadline.TimeLeft);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(100.5)] // the header carries whole milliseconds: this one would say 0
    public void Validation_SafetyMarginNotAWholeMillisecondBelowTheAttemptTimeout_Fails(double attemptMilliseconds)
    {
        var options = new HttpResilienceOptions { AttemptTimeout = TimeSpan.FromMilliseconds(attemptMilliseconds) };
        options.DeadlinePropagation.Enabled = true;

        var result = new HttpResilienceOptionsValidator().Validate("x", options);

        Assert.Contains(result.Failures!, f => f.Contains("'DeadlinePropagation.SafetyMargin' must be at least 1 ms less than AttemptTimeout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Inherited_Infinite_LeavesTheClientsOwnDeadline()
    {
        using var h = new ChainHarness(o => o.AttemptTimeout = o.Deadline);
        h.Stub.ThenHang();
        using (InheritedDeadline.Begin(Timeout.InfiniteTimeSpan, h.Clock))
        {
            Assert.Equal(Timeout.InfiniteTimeSpan, InheritedDeadline.TimeLeft);
            _ = h.CreateClient().GetAsync("/");
        }

        Assert.Equal(TimeSpan.FromSeconds(10), await h.Clock.NextTimerAsync()); // the attempt's, bounded by the client's own 10 s
    }
}
