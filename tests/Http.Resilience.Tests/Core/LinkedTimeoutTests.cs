using Microsoft.Extensions.Time.Testing;

namespace Http.Resilience.Tests;

public class LinkedTimeoutTests
{
    [Fact]
    public void Dispose_Twice_UnlinksOnceAndTheOuterTokenNoLongerReachesTheSource()
    {
        using var outer = new CancellationTokenSource();
        var timeout = LinkedTimeout.Start(TimeSpan.FromHours(1), TimeProvider.System, outer.Token);
        var token = timeout.Token;

        timeout.Dispose();
        timeout.Dispose(); // harmless: the shape cannot be copied, so there is no stale copy to dispose wrongly
        outer.Cancel();

        Assert.False(token.IsCancellationRequested);
    }

    [Fact]
    public void Arm_AfterAnAlias_EveryHolderSeesTheOneLink()
    {
        var clock = new FakeTimeProvider();
        using var outer = new CancellationTokenSource();
        using var timeout = LinkedTimeout.Prepare(TimeSpan.FromSeconds(2), clock, outer.Token);
        var alias = timeout; // a reference, not a copy

        alias.Arm(TimeSpan.Zero);
        outer.Cancel();

        Assert.True(timeout.Fired);
        Assert.True(timeout.Token.IsCancellationRequested);
    }

    [Fact]
    public void Prepare_FiresOnlyOnceArmedAndItsTimeIsUp()
    {
        var clock = new FakeTimeProvider();
        using var timeout = LinkedTimeout.Prepare(TimeSpan.FromSeconds(2), clock, CancellationToken.None);

        clock.Advance(TimeSpan.FromSeconds(3));
        Assert.False(timeout.Fired); // not armed: no timer ran

        timeout.Arm(TimeSpan.FromSeconds(1)); // a second of the two already went by
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(timeout.Fired);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(timeout.Fired);
    }
}
