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

        var waiting = ramp.EnterAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        ramp.Exit();

        Assert.True(await waiting);
    }

    [Fact]
    public async Task Waiters_GetInAsTheLimitGrows_InOrder()
    {
        var ramp = Start();
        Assert.Equal(1, Fill(ramp, 10));
        var first = ramp.EnterAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).AsTask();
        var second = ramp.EnterAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).AsTask();

        _time.Advance((Length / 9) + TimeSpan.FromTicks(1)); // the limit grows from 1 to 10 over the ramp: one more here
        Assert.True(await first.WaitAsync(Guard));
        Assert.False(second.IsCompleted);

        _time.Advance(Length / 9);
        Assert.True(await second.WaitAsync(Guard));
    }

    [Fact]
    public async Task Waiter_WhoseBudgetRunsOut_IsTurnedAway_AndLeavesNoRoomTaken()
    {
        var ramp = Start();
        Assert.Equal(1, Fill(ramp, 10));

        var waiting = ramp.EnterAsync(TimeSpan.FromMilliseconds(500), CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(500));

        Assert.False(await waiting);
        ramp.Exit();
        Assert.Equal(1, Fill(ramp, 10)); // the turned-away waiter holds nothing
    }

    [Fact]
    public async Task EndOfTheRamp_LetsEveryWaiterIn()
    {
        var ramp = Start();
        Assert.Equal(1, Fill(ramp, 10));
        var waiters = Enumerable.Range(0, 20).Select(_ => ramp.EnterAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).AsTask()).ToList();

        _time.Advance(Length);

        Assert.All(await Task.WhenAll(waiters), Assert.True);
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

    [Fact]
    public async Task Chain_RequestTheRampHasNoRoomForWithinItsBudget_IsRejectedUnsent()
    {
        using var h = new ChainHarness(o =>
        {
            o.Retry.Enabled = false;
            o.Deadline = TimeSpan.FromSeconds(1);
            o.CircuitBreaker.MinimumThroughput = 1;
            o.CircuitBreaker.RampUp = TimeSpan.FromSeconds(60);
            o.Bulkhead.MaxConcurrency = 10;
        });
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.OK).ThenHang();
        var client = h.CreateClient();
        using (await client.GetAsync("/")) { }
        h.Clock.Advance(TimeSpan.FromSeconds(1.5));
        using (await client.GetAsync("/")) { }
        var hanging = client.GetAsync("/");
        await h.Stub.WaitForCallsAsync(3);

        var second = client.GetAsync("/");
        h.Clock.Advance(TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<BulkheadRejectedException>(() => second);
        Assert.Contains("ramps its requests in flight back up to 10", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, h.Stub.CallCount);
        await Assert.ThrowsAnyAsync<Exception>(() => hanging); // its own deadline ends it
    }
}
