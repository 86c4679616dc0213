using Microsoft.Extensions.Time.Testing;

namespace Http.Resilience.Tests;

public class TimeoutSourcePoolTests
{
    [Fact]
    public void Return_UnfiredSystemSource_IsResetAndReusedWithNoRegistrationLeft()
    {
        var first = Rent(TimeSpan.FromHours(1), TimeProvider.System);
        var leftover = 0;
        first.Token.Register(() => leftover++); // a registration the old request forgot
        TimeoutSourcePool.Return(first, TimeProvider.System);

        CancellationTokenSource? reused = null;
        var others = new List<CancellationTokenSource>();
        for (var i = 0; i < 2_000 && !ReferenceEquals(reused, first); i++)
        {
            reused = Rent(TimeSpan.FromHours(1), TimeProvider.System); // other tests may share the pool
            others.Add(reused);
        }

        others.Remove(first);
        others.ForEach(o => o.Dispose());
        Assert.Same(first, reused);
        Assert.False(reused!.IsCancellationRequested);
        reused.Cancel();
        Assert.Equal(0, leftover); // TryReset dropped it: nothing of the old request reaches the next
        TimeoutSourcePool.Return(reused, TimeProvider.System);
    }

    [Fact]
    public void Return_FiredSource_IsNeverReused()
    {
        var fired = Rent(TimeSpan.FromHours(1), TimeProvider.System);
        fired.Cancel();
        TimeoutSourcePool.Return(fired, TimeProvider.System);

        for (var i = 0; i < 2_000; i++)
        {
            using var rented = Rent(TimeSpan.FromHours(1), TimeProvider.System);
            Assert.NotSame(fired, rented);
            Assert.False(rented.IsCancellationRequested);
        }
    }

    [Fact]
    public void Rent_OtherClock_IsNeverPooled()
    {
        var clock = new FakeTimeProvider();
        var source = Rent(TimeSpan.FromSeconds(1), clock);
        TimeoutSourcePool.Return(source, clock);

        Assert.NotSame(source, Rent(TimeSpan.FromSeconds(1), clock));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Throws<ObjectDisposedException>(() => source.Token.WaitHandle);
    }

    private static CancellationTokenSource Rent(TimeSpan timeout, TimeProvider timeProvider)
    {
        var source = TimeoutSourcePool.RentUnarmed(timeProvider);
        source.CancelAfter(timeout);
        return source;
    }
}
