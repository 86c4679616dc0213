namespace Http.Resilience.Tests;

public class BulkheadStateTests
{
    private static BulkheadOptions Options(int maxConcurrency, int maxQueue)
        => new() { MaxConcurrency = maxConcurrency, MaxQueue = maxQueue };

    [Fact]
    public async Task TryAcquire_NoQueue_ManyThreadsNeverHoldMoreThanTheLimitAndAllPermitsComeBack()
    {
        var options = Options(maxConcurrency: 4, maxQueue: 0);
        var generation = new BulkheadState("test", null, options).GetGeneration(options);
        var inUse = 0;
        var overLimit = 0;
        var granted = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                if (!generation.TryAcquire(out var permit))
                {
                    continue;
                }

                if (Interlocked.Increment(ref inUse) > 4)
                {
                    Interlocked.Increment(ref overLimit);
                }

                Interlocked.Increment(ref granted);
                Interlocked.Decrement(ref inUse);
                generation.Release(permit);
            }
        })));

        Assert.Equal(0, overLimit);
        Assert.True(granted > 0);
        Assert.Equal(0, generation.Active);
    }

    [Fact]
    public void GetGeneration_ReloadFromNoQueueToAQueue_CarriesThePermitsInFlight()
    {
        var before = Options(maxConcurrency: 2, maxQueue: 0);
        var state = new BulkheadState("test", null, before);
        var old = state.GetGeneration(before);
        Assert.True(old.TryAcquire(out var first));
        Assert.True(old.TryAcquire(out var second));
        Assert.False(old.TryAcquire(out _));

        var after = Options(maxConcurrency: 3, maxQueue: 1);
        var next = state.GetGeneration(after);

        Assert.NotNull(next.Limiter);
        Assert.Equal(2, next.Active); // charged for the two requests still in flight
        Assert.True(next.TryAcquire(out var third));
        Assert.False(next.TryAcquire(out _)); // 3 of 3
        old.Release(first);
        old.Release(second);
        Assert.Equal(1, next.Active);
        Assert.Equal(0, old.Active);
        next.Release(third);
        Assert.Equal(0, state.GetSnapshot().Active);
    }
}
