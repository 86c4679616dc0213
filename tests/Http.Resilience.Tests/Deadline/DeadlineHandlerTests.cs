using System.Net;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.Tests;

public class DeadlineHandlerTests
{
    [Fact]
    public async Task SendAsync_HangingDependency_EndsExactlyAtDeadlineWithDeadlineExceeded()
    {
        using var h = new ChainHarness(o =>
        {
            o.Deadline = TimeSpan.FromSeconds(5);
            o.AttemptTimeout = TimeSpan.FromSeconds(2);
            o.Retry.MaxRetries = 10;
            o.Retry.BaseDelay = TimeSpan.Zero;
        });
        h.Stub.ThenHang();
        var client = h.CreateClient();
        var start = h.Clock.GetTimestamp();

        var send = client.GetAsync("/");

        Assert.Equal(TimeSpan.FromSeconds(2), await h.Clock.NextTimerAsync()); // attempt 1 (the budget is a deadline, not a timer)
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(2), await h.Clock.NextTimerAsync()); // attempt 2
        await h.Stub.WaitForCallsAsync(2);
        h.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(1), await h.Clock.NextTimerAsync()); // attempt 3, clipped to the budget left
        await h.Stub.WaitForCallsAsync(3);
        h.Clock.Advance(TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<DeadlineExceededException>(() => send);
        Assert.IsType<TimeoutException>(ex.InnerException);
        Assert.Equal(TimeSpan.FromSeconds(5), ex.Deadline);
        Assert.Contains("'test'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, h.Stub.CallCount);
        Assert.Equal(TimeSpan.FromSeconds(5), h.Clock.GetElapsedTime(start));
    }

    [Fact]
    public async Task SendAsync_CallerCancelsDuringAttempt_OperationCanceledNotRetriedNotWrapped()
    {
        using var h = new ChainHarness();
        h.Stub.ThenHang();
        var client = h.CreateClient();
        using var cts = new CancellationTokenSource();

        var send = client.GetAsync("/", cts.Token);
        await h.Stub.WaitForCallsAsync(1);
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
        Assert.IsNotType<TimeoutException>(ex.InnerException);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_CallerCancelsDuringBackoff_OperationCanceledAndNoFurtherAttempt()
    {
        using var h = new ChainHarness(o => o.Retry.BaseDelay = TimeSpan.FromSeconds(1), jitter: 0.5);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable);
        var client = h.CreateClient();
        using var cts = new CancellationTokenSource();

        var send = client.GetAsync("/", cts.Token);
        Assert.Equal(TimeSpan.FromMilliseconds(500), await h.Clock.NextTimerAsync()); // backoff (attempt 1 answered at once: no timer)
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_CallerCancelsAtTheSameInstantTheBudgetEnds_CallerWins()
    {
        using var h = new ChainHarness(o => o.Deadline = o.AttemptTimeout = TimeSpan.FromSeconds(1));
        h.Stub.ThenHang();
        var client = h.CreateClient();
        using var cts = new CancellationTokenSource();

        var send = client.GetAsync("/", cts.Token);
        await h.Stub.WaitForCallsAsync(1);
        await cts.CancelAsync();
        h.Clock.Advance(TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
        Assert.IsNotType<TimeoutException>(ex.InnerException);
    }

    [Fact]
    public async Task CreateClient_UserSetShorterHttpClientTimeout_BecomesTheDeadline()
    {
        using var h = new ChainHarness(client: b => b.ConfigureHttpClient(c => c.Timeout = TimeSpan.FromSeconds(3)));
        h.Stub.ThenHang();
        var client = h.CreateClient();
        Assert.Equal(TimeSpan.FromSeconds(4), client.Timeout);

        var send = client.GetAsync("/");
        Assert.Equal(TimeSpan.FromSeconds(2), await h.Clock.NextTimerAsync()); // attempt 1 of the 3 s budget (min(10 s, 3 s))
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(1), await h.Clock.NextTimerAsync());
        await h.Stub.WaitForCallsAsync(2);
        h.Clock.Advance(TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<DeadlineExceededException>(() => send);
        Assert.Equal(TimeSpan.FromSeconds(3), ex.Deadline);
        Assert.Contains("the client's HttpClient.Timeout ('00:00:03'), which is shorter than its Deadline option ('00:00:10')", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_InfiniteDeadline_OnlyTheAttemptTimeoutBounds()
    {
        using var h = new ChainHarness(o =>
        {
            o.Deadline = Timeout.InfiniteTimeSpan;
            o.AttemptTimeout = TimeSpan.FromSeconds(1);
            o.Retry.Enabled = false;
        });
        h.Stub.ThenHang();
        var client = h.CreateClient();
        Assert.Equal(Timeout.InfiniteTimeSpan, client.Timeout);
        var send = client.GetAsync("/");

        Assert.Equal(TimeSpan.FromSeconds(1), await h.Clock.NextTimerAsync()); // the attempt's
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAnyAsync<HttpResilienceException>(() => send);
        Assert.IsNotType<DeadlineExceededException>(ex);
        Assert.IsType<TimeoutException>(ex.InnerException);
    }

    [Fact]
    public void Send_SynchronousPath_RunsTheWholeChain()
    {
        using var h = new ChainHarness(o => o.Retry.BaseDelay = TimeSpan.Zero);
        h.Stub.ThenStatus(System.Net.HttpStatusCode.ServiceUnavailable).ThenStatus(System.Net.HttpStatusCode.OK);

        using var response = h.CreateClient().Send(new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("x") });

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Stub.CallCount);
        Assert.Equal(h.Stub.Calls[0].Headers["Idempotency-Key"], h.Stub.Calls[1].Headers["Idempotency-Key"]);
    }
}
