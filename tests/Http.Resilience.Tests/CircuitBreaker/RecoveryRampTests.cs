using System.Net;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Http.Resilience.Tests;

/// <summary>After a close, the requests in flight ramp from a tenth of the bulkhead's limit to all of it.</summary>
public class RecoveryRampTests
{
    private static readonly TimeSpan Length = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30); // real time: only so that a broken ramp fails instead of hanging
    private readonly FakeTimeProvider _time = new();

    private RecoveryRamp Start()
    {
        var ramp = new RecoveryRamp(_time);
        ramp.Start(_time.GetTimestamp());
        return ramp;
    }

    private static int Fill(RecoveryRamp ramp, int full)
    {
        var admitted = 0;
        while (ramp.TryEnter(Length, full, out var counted))
        {
            Assert.True(counted);
            admitted++;
        }

        return admitted;
    }

    [Fact]
    public void Limit_GrowsInAStraightLineFromATenthToAll()
    {
        var ramp = Start();
        Assert.Equal(10, Fill(ramp, 100)); // a tenth of 100

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(55 - 10, Fill(ramp, 100)); // halfway: 10 + 90 / 2
        Assert.Equal(55, ramp.CurrentLimit);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(ramp.TryEnter(Length, 100, out var counted)); // over: no limit, nothing to give back
        Assert.False(counted);
        Assert.False(ramp.IsActive);
        Assert.Null(ramp.CurrentLimit);
    }

    [Fact]
    public void Limit_IsAtLeastOne()
    {
        var ramp = Start();
        Assert.Equal(1, Fill(ramp, 5));
    }

    [Fact]
    public async Task Waiter_GetsInWhenARequestLeaves()
    {
        var ramp = Start();
        Assert.Equal(1, Fill(ramp, 10));

        var waiting = ramp.EnterAsync(Timeout.InfiniteTimeSpan, 1000, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        ramp.Exit();

        Assert.Equal(RampEntry.Admitted, await waiting);
    }

    [Fact]
    public async Task Waiters_GetInAsTheLimitGrows_InOrder()
    {
        var ramp = Start();
        Assert.Equal(1, Fill(ramp, 10));
        var first = ramp.EnterAsync(Timeout.InfiniteTimeSpan, 1000, CancellationToken.None).AsTask();
        var second = ramp.EnterAsync(Timeout.InfiniteTimeSpan, 1000, CancellationToken.None).AsTask();

        _time.Advance((Length / 9) + TimeSpan.FromTicks(1)); // the limit grows from 1 to 10 over the ramp: one more here
        Assert.Equal(RampEntry.Admitted, await first.WaitAsync(Guard));
        Assert.False(second.IsCompleted);

        _time.Advance(Length / 9);
        Assert.Equal(RampEntry.Admitted, await second.WaitAsync(Guard));
    }

    [Fact]
    public async Task Waiter_WhoseBudgetRunsOut_IsTurnedAway_AndLeavesNoRoomTaken()
    {
        var ramp = Start();
        Assert.Equal(1, Fill(ramp, 10));

        var waiting = ramp.EnterAsync(TimeSpan.FromMilliseconds(500), 1000, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(500));

        Assert.Equal(RampEntry.TimedOut, await waiting);
        ramp.Exit();
        Assert.Equal(1, Fill(ramp, 10)); // the turned-away waiter holds nothing
    }

    [Fact]
    public async Task Request_BeyondWhatTheBulkheadHolds_IsTurnedAwayAtOnce_NotQueued()
    {
        var ramp = Start();
        Assert.Equal(1, Fill(ramp, 10));
        var waiting = ramp.EnterAsync(Timeout.InfiniteTimeSpan, 2, CancellationToken.None).AsTask(); // one in flight, one waiting: full

        Assert.Equal(RampEntry.Full, await ramp.EnterAsync(Timeout.InfiniteTimeSpan, 2, CancellationToken.None));
        ramp.Exit();
        Assert.Equal(RampEntry.Admitted, await waiting.WaitAsync(Guard));
    }

    [Fact]
    public async Task EndOfTheRamp_LetsEveryWaiterIn()
    {
        var ramp = Start();
        Assert.Equal(1, Fill(ramp, 10));
        var waiters = Enumerable.Range(0, 20).Select(_ => ramp.EnterAsync(Timeout.InfiniteTimeSpan, 1000, CancellationToken.None).AsTask()).ToList();

        _time.Advance(Length);

        Assert.All(await Task.WhenAll(waiters), e => Assert.Equal(RampEntry.Admitted, e));
        Assert.False(ramp.IsActive);
    }

    [Fact]
    public async Task Chain_AfterAProbeClosesTheCircuit_HoldsRequestsOverTheRampedLimitUntilRoomFrees()
    {
        using var h = new ChainHarness(o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.MinimumThroughput = 1;
            o.Bulkhead.MaxConcurrency = 10; // the ramp starts at one request in flight
        });
        var release = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.OK).Then((_, _) => release.Task).ThenStatus(HttpStatusCode.OK);
        var client = h.CreateClient();
        using (await client.GetAsync("/")) { } // opens

        h.Clock.Advance(TimeSpan.FromSeconds(1.5));
        using (await client.GetAsync("/")) { } // the probe closes it
        var first = client.GetAsync("/"); // takes the ramp's one place, and hangs
        await h.Stub.WaitForCallsAsync(3);
        var second = client.GetAsync("/");

        Assert.False(second.IsCompleted); // waits: not sent, not rejected
        Assert.Equal(3, h.Stub.CallCount);
        var snapshot = Assert.Single(h.Services.GetRequiredService<IHttpResilienceMonitor>().GetCircuitBreakers());
        Assert.Equal(1, snapshot.RampLimit);

        release.SetResult(new HttpResponseMessage(HttpStatusCode.OK));
        using (await first) { }
        using var response = await second;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(4, h.Stub.CallCount);
    }

    private static readonly TimeSpan SlowRamp = TimeSpan.FromHours(1);

    /// <summary>Opens the circuit with a 503 and closes it with a probe: the ramp starts, at one request of ten.</summary>
    private static async Task<(ChainHarness Harness, HttpClient Client, RecoveryRamp Ramp)> CloseAsync(TimeSpan deadline)
    {
        var h = new ChainHarness(o =>
        {
            o.Retry.Enabled = false;
            o.Deadline = deadline;
            o.CircuitBreaker.MinimumThroughput = 1;
            o.CircuitBreaker.RampUp = SlowRamp; // its limit does not grow within these tests' budgets
            o.Bulkhead.MaxConcurrency = 10;
        });
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.OK).ThenStatus(HttpStatusCode.OK);
        var client = h.CreateClient();
        using (await client.GetAsync("/")) { }
        h.Clock.Advance(TimeSpan.FromSeconds(1.5));
        using (await client.GetAsync("/")) { }
        var ramp = h.Registry.GetOrAddCircuit(ChainHarness.ClientName, null).Ramp!;
        Assert.True(ramp.IsActive);
        return (h, client, ramp);
    }

    [Fact]
    public async Task Chain_RequestTheRampHasNoRoomForWithinItsBudget_IsRejectedUnsent()
    {
        var (h, client, ramp) = await CloseAsync(TimeSpan.FromSeconds(1));
        using (h)
        {
            Assert.True(ramp.TryEnter(SlowRamp, 10, out var counted)); // the ramp's one place, held until the end of the test
            Assert.True(counted);

            var waiting = client.GetAsync("/");
            Assert.False(waiting.IsCompleted);
            h.Clock.Advance(TimeSpan.FromSeconds(1));

            var ex = await Assert.ThrowsAsync<BulkheadRejectedException>(() => waiting);
            Assert.Contains("ramps its requests in flight back up to 10; it had no room for this request within the 1000 ms of budget left", ex.Message, StringComparison.Ordinal);
            Assert.Equal(2, h.Stub.CallCount);
            ramp.Exit();
        }
    }

    [Fact]
    public async Task Chain_RequestBeyondWhatTheBulkheadHolds_IsRejectedAtOnce()
    {
        var (h, client, ramp) = await CloseAsync(TimeSpan.FromSeconds(10));
        using (h)
        {
            Assert.True(ramp.TryEnter(SlowRamp, 10, out _)); // one in flight...
            var waiting = Enumerable.Range(0, 9).Select(_ => client.GetAsync("/")).ToList(); // ...and nine waiting: the bulkhead's ten

            var ex = await Assert.ThrowsAsync<BulkheadRejectedException>(() => client.GetAsync("/"));

            Assert.Contains("as many requests as the bulkhead holds (10) are already in flight or waiting", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(waiting, w => w.IsCompleted);
            h.Clock.Advance(TimeSpan.FromSeconds(10)); // their budgets end: nothing is left waiting
            foreach (var w in waiting)
            {
                await Assert.ThrowsAsync<BulkheadRejectedException>(() => w);
            }

            ramp.Exit();
        }
    }
}
