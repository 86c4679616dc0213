using System.Net;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests;

public class AttemptTimeoutHandlerTests
{
    [Fact]
    public async Task SendAsync_TimedOutAttempt_IsRetriedWhileBudgetRemains()
    {
        using var h = new ChainHarness();
        h.Stub.ThenHang().ThenStatus(HttpStatusCode.OK);
        var send = h.CreateClient().GetAsync("/");

        Assert.Equal(TimeSpan.FromSeconds(2), await h.Clock.NextTimerAsync());
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromSeconds(2));

        using var response = await send;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_LastAttemptTimedOutWithBudgetLeft_ThrowsHttpResilienceExceptionWithTimeout()
    {
        using var h = new ChainHarness(o => o.Retry.BaseDelay = TimeSpan.Zero);
        h.Stub.ThenHang();
        var send = h.CreateClient().GetAsync("/");

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            Assert.Equal(TimeSpan.FromSeconds(2), await h.Clock.NextTimerAsync());
            await h.Stub.WaitForCallsAsync(attempt);
            h.Clock.Advance(TimeSpan.FromSeconds(2));
        }

        var ex = await Assert.ThrowsAsync<AttemptTimeoutException>(() => send);
        Assert.IsAssignableFrom<HttpResilienceException>(ex);
        Assert.IsType<TimeoutException>(ex.InnerException);
        Assert.Contains("Attempt 3", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_AttemptTimeoutWithRetriesOff_IsNeverReportedAsCancellation()
    {
        using var h = new ChainHarness(o => o.Retry.Enabled = false);
        h.Stub.ThenHang();
        using var callerCts = new CancellationTokenSource();
        var send = h.CreateClient().GetAsync("/", callerCts.Token);

        Assert.Equal(TimeSpan.FromSeconds(2), await h.Clock.NextTimerAsync());
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromSeconds(2));

        var ex = await Record.ExceptionAsync(() => send);
        Assert.IsAssignableFrom<HttpResilienceException>(ex);
        Assert.IsNotAssignableFrom<OperationCanceledException>(ex);
        Assert.False(callerCts.IsCancellationRequested);
    }

    [Fact]
    public async Task SendAsync_InfiniteAttemptTimeout_AttemptIsBoundedByTheBudgetOnly()
    {
        using var h = new ChainHarness(o =>
        {
            o.Deadline = TimeSpan.FromSeconds(3);
            o.AttemptTimeout = Timeout.InfiniteTimeSpan;
        });
        h.Stub.ThenHang();
        var send = h.CreateClient().GetAsync("/");

        Assert.Equal(TimeSpan.FromSeconds(3), await h.Clock.NextTimerAsync()); // the attempt's timer is the budget left
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromSeconds(3));

        await Assert.ThrowsAsync<DeadlineExceededException>(() => send);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_TimedOutAttemptLeavesTooLittleBudgetToRetry_ReportsTheDeadline()
    {
        using var h = new ChainHarness(o =>
        {
            o.Deadline = TimeSpan.FromMilliseconds(4040);
            o.Retry.BaseDelay = TimeSpan.Zero;
        });
        h.Stub.ThenHang();
        var send = h.CreateClient().GetAsync("/");

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            Assert.Equal(TimeSpan.FromSeconds(2), await h.Clock.NextTimerAsync());
            await h.Stub.WaitForCallsAsync(attempt);
            h.Clock.Advance(TimeSpan.FromSeconds(2));
        }

        var ex = await Assert.ThrowsAsync<DeadlineExceededException>(() => send); // 40 ms left: not worth a third attempt
        Assert.IsType<TimeoutException>(ex.InnerException);
        Assert.Equal(2, h.Stub.CallCount);
    }
}
