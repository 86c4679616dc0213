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

    [Fact]
    public void LoweredLimit_OneOfThreeOldRequestsFinishes_NothingNewIsAdmittedUntilOnlyTheNewLimitIsInFlight()
    {
        var state = new BulkheadState("test", null, Options(maxConcurrency: 3, maxQueue: 0));
        var held = new List<(BulkheadState.Generation, BulkheadState.Permit)>();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(state.TryAcquire(Options(3, 0), out var g, out var p));
            held.Add((g, p));
        }

        var lowered = Options(maxConcurrency: 1, maxQueue: 0);
        Assert.False(state.TryAcquire(lowered, out _, out _));

        held[0].Item1.Release(held[0].Item2); // two old requests still in flight
        Assert.False(state.TryAcquire(lowered, out _, out _));
        held[1].Item1.Release(held[1].Item2); // one old request: the limit of 1 is used
        Assert.False(state.TryAcquire(lowered, out _, out _));
        held[2].Item1.Release(held[2].Item2);
        Assert.True(state.TryAcquire(lowered, out var generation, out var permit));
        Assert.False(state.TryAcquire(lowered, out _, out _));
        generation.Release(permit);
        Assert.Equal(0, state.Current.Active);
    }

    [Fact]
    public void ChainedReloads_TwoThenThreeThenOne_NoRequestIsAdmittedWhileTheOldOnesExceedTheNewestLimit()
    {
        var state = new BulkheadState("test", null, Options(maxConcurrency: 2, maxQueue: 0));
        var held = new List<(BulkheadState.Generation Generation, BulkheadState.Permit Permit)>();
        for (var i = 0; i < 2; i++)
        {
            Assert.True(state.TryAcquire(Options(2, 0), out var g, out var p));
            held.Add((g, p));
        }

        Assert.True(state.TryAcquire(Options(3, 1), out var g3, out var p3)); // the limit rose to 3: one more admitted
        held.Add((g3, p3));
        var newest = Options(maxConcurrency: 1, maxQueue: 0);
        Assert.False(state.TryAcquire(newest, out _, out _)); // the limit fell to 1: three in flight

        foreach (var (generation, permit) in held.Take(2))
        {
            generation.Release(permit);
            Assert.False(state.TryAcquire(newest, out _, out _)); // still one in flight
        }

        held[2].Generation.Release(held[2].Permit);
        Assert.True(state.TryAcquire(newest, out var last, out var lastPermit));
        last.Release(lastPermit);
        Assert.Equal(0, state.Current.Active);
    }

    [Fact]
    public void CarryOnto_APermitReturnedWhileTheReloadCounted_IsNotLeftCarried()
    {
        var before = Options(maxConcurrency: 2, maxQueue: 0);
        var state = new BulkheadState("test", null, before);
        var old = state.GetGeneration(before);
        Assert.True(old.TryAcquire(out var first));

        // The reload publishes the new generation, then counts: a release on either side of it is accounted for.
        var next = new BulkheadState.Generation(Options(maxConcurrency: 1, maxQueue: 0));
        old.CarryOnto(next);
        Assert.Equal(1, old.Carried);
        old.Release(first);

        Assert.Equal(0, old.Carried);
        Assert.Equal(0, next.Active);
    }

    [Fact]
    public void TryAcquire_FromAGenerationAReloadReplaced_GivesThePermitBackAndUsesTheNewOne()
    {
        var before = Options(maxConcurrency: 2, maxQueue: 0);
        var state = new BulkheadState("test", null, before);
        var stale = state.GetGeneration(before);
        var after = Options(maxConcurrency: 1, maxQueue: 0);
        state.GetGeneration(after);

        Assert.True(state.TryAcquireFrom(stale, out var generation, out var permit));

        Assert.Same(state.Current, generation);
        Assert.Equal(0, stale.Active);
        Assert.False(state.TryAcquire(after, out _, out _));
        generation.Release(permit);
    }

    [Fact]
    public async Task RandomAcquireReleaseReload_EightThreads_NeverMoreInFlightThanTheAdmittingLimitAndNoPermitLeaks()
    {
        var state = new BulkheadState("test", null, Options(maxConcurrency: 3, maxQueue: 0));
        var current = Options(3, 0);
        var inFlight = 0;
        var violations = 0;
        var admitted = 0;
        var reloads = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(seed => Task.Run(() =>
        {
            var random = new Random(seed);
            var held = new Queue<(BulkheadState.Generation Generation, BulkheadState.Permit Permit)>();
            for (var i = 0; i < 30_000; i++)
            {
                var roll = random.Next(100);
                if (roll < 2)
                {
                    var next = Options(maxConcurrency: random.Next(1, 6), maxQueue: random.Next(2));
                    Volatile.Write(ref current, next);
                    state.GetGeneration(next);
                    Interlocked.Increment(ref reloads);
                }
                else if (roll < 55 && held.Count < 3)
                {
                    if (state.TryAcquire(Volatile.Read(ref current), out var generation, out var permit))
                    {
                        // Counted only once admitted, and uncounted before the permit goes back: the count never exceeds
                        // the permits really held, so a count above the admitting limit is a real breach.
                        if (Interlocked.Increment(ref inFlight) > generation.MaxConcurrency)
                        {
                            Interlocked.Increment(ref violations);
                        }

                        Interlocked.Increment(ref admitted);
                        held.Enqueue((generation, permit));
                    }
                }
                else if (held.Count > 0)
                {
                    var (generation, permit) = held.Dequeue();
                    Interlocked.Decrement(ref inFlight);
                    generation.Release(permit);
                }
            }

            while (held.Count > 0)
            {
                var (generation, permit) = held.Dequeue();
                Interlocked.Decrement(ref inFlight);
                generation.Release(permit);
            }
        })));

        Assert.Equal(0, violations);
        Assert.True(admitted > 1000, $"only {admitted} admissions");
        Assert.True(reloads > 100, $"only {reloads} reloads");
        Assert.Equal(0, state.Current.Active); // nothing leaked: every carried permit came back down the chain
        Assert.Equal(0, state.Current.Queued);
        var final = Volatile.Read(ref current);
        for (var i = 0; i < final.MaxConcurrency; i++)
        {
            Assert.True(state.TryAcquire(final, out _, out _)); // the whole newest limit is free again
        }
    }
}
