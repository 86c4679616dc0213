using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests.Regressions;

/// <summary>
/// With deadline propagation on, a retry was sent even when less budget was left than the safety margin, telling the
/// dependency it had no time at all. Such an attempt is not sent; the request reports its deadline.
/// </summary>
public sealed class SpentPropagatedDeadlineStillSentTests
{
    [Fact]
    public async Task Outgoing_LessBudgetLeftThanTheMargin_SendsNothingAndReportsTheDeadline()
    {
        using var h = new ChainHarness(o =>
        {
            o.Deadline = TimeSpan.FromMilliseconds(2050);
            o.Retry.BaseDelay = TimeSpan.Zero;
            o.DeadlinePropagation.Enabled = true;
        });
        h.Stub.ThenHang();
        var send = h.CreateClient().GetAsync("/");
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromSeconds(2)); // 50 ms left: a retry would tell the dependency it has nothing

        await Assert.ThrowsAsync<DeadlineExceededException>(() => send);
        Assert.Equal(1, h.Stub.CallCount);
    }
}
