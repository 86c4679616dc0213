using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Http.Resilience.Tests.Regressions;

/// <summary>
/// When the budget left, not the attempt timeout, bounds an attempt, that attempt's timer running out is the deadline. The
/// chain once decided by looking at the budget when the timer fired, so a system timer that fired a millisecond early
/// reported a retryable attempt timeout instead of <see cref="DeadlineExceededException"/>.
/// </summary>
public sealed class BudgetBoundAttemptTimeoutReportedAsAttemptTimeoutTests
{
    [Fact]
    public async Task TimerFiresJustBeforeTheDeadline_TheFailureIsTheDeadline()
    {
        var clock = new EarlyTimers(TimeSpan.FromMilliseconds(1));
        var stub = new StubHandler().ThenHang();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddHttpClient("test", c => c.BaseAddress = new Uri("http://127.0.0.1/"))
            .ConfigurePrimaryHttpMessageHandler(() => stub)
            .AddHttpResilience(o =>
            {
                o.Deadline = TimeSpan.FromSeconds(3);
                o.AttemptTimeout = TimeSpan.FromSeconds(3); // as long as the budget: the budget is what bounds the attempt
                o.Retry.Enabled = false;
            });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("test");

        var pending = client.GetAsync("/");
        await stub.WaitForCallsAsync(1);
        clock.Advance(TimeSpan.FromMilliseconds(2999)); // the attempt's timer fires; 1 ms of budget is formally left

        await Assert.ThrowsAsync<DeadlineExceededException>(() => pending);
    }

    /// <summary>A fake clock whose timers fire a little before they are due, as a coarse system timer may.</summary>
    private sealed class EarlyTimers(TimeSpan early) : FakeTimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
            => new EarlyTimer(base.CreateTimer(callback, state, Early(dueTime), period), this);

        private TimeSpan Early(TimeSpan dueTime) => dueTime == Timeout.InfiniteTimeSpan || dueTime <= early ? dueTime : dueTime - early;

        private sealed class EarlyTimer(ITimer inner, EarlyTimers clock) : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(clock.Early(dueTime), period);

            public void Dispose() => inner.Dispose();

            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }
}
