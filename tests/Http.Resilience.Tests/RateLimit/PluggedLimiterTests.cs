using System.Net;
using System.Threading.RateLimiting;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests;

/// <summary>
/// A limiter the user plugs in (a distributed one) gets the built-in limits' rules: its waits end with the budget even if
/// it ignores its token, what it throws becomes the chain's rejection with the original inside, and the wait it names is
/// read whatever its metadata is called.
/// </summary>
public class PluggedLimiterTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    private static ChainHarness RateLimited(ScriptedLimiter limiter, Action<HttpResilienceOptions>? configure = null)
        => new(o =>
        {
            o.Deadline = Deadline;
            o.RateLimit.Enabled = true;
            o.RateLimit.UseLimiter(limiter);
            configure?.Invoke(o);
        });

    private static ChainHarness SharedBulkhead(ScriptedLimiter limiter, Action<HttpResilienceOptions>? configure = null)
        => new(o =>
        {
            o.Deadline = Deadline;
            o.Bulkhead.UseLimiter(limiter);
            configure?.Invoke(o);
        });

    private static RateLimitLease Refused() => new TestLease(acquired: false);

    [Fact]
    public async Task RateLimit_LimiterThrows_RejectedWithTheFailureInside_NothingSent()
    {
        var down = new InvalidOperationException("No connection is active/available to service this operation.");
        using var harness = RateLimited(new ScriptedLimiter { OnAttempt = () => throw down });

        var ex = await Assert.ThrowsAsync<RateLimitRejectedException>(() => harness.CreateClient().GetAsync("/x"));

        Assert.Same(down, ex.InnerException);
        Assert.Contains("failed: No connection is active", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, harness.Stub.CallCount);
    }

    [Fact]
    public async Task RateLimit_LimiterThrowsWhileWaiting_RejectedWithTheFailureInside()
    {
        var down = new TimeoutException("Timeout awaiting response (outbound=0KiB, inbound=0KiB, 5250ms elapsed)");
        using var harness = RateLimited(new ScriptedLimiter { OnAttempt = Refused, OnAcquire = _ => ValueTask.FromException<RateLimitLease>(down) });

        var ex = await Assert.ThrowsAsync<RateLimitRejectedException>(() => harness.CreateClient().GetAsync("/x"));

        Assert.Same(down, ex.InnerException);
        Assert.Equal(0, harness.Stub.CallCount);
    }

    [Fact]
    public async Task RateLimit_LimiterThatIgnoresItsToken_TheWaitEndsWithTheBudget_ItsLateLeaseIsGivenBack()
    {
        var limiter = new ScriptedLimiter { OnAttempt = Refused };
        using var harness = RateLimited(limiter);

        var pending = harness.CreateClient().GetAsync("/x");
        Assert.Equal(Deadline, await harness.Clock.NextTimerAsync()); // the wait is bounded by the budget left
        harness.Clock.Advance(Deadline);
        var ex = await Assert.ThrowsAsync<RateLimitRejectedException>(() => pending);
        var late = limiter.Grant();
        limiter.Pending.SetResult(late);

        Assert.Contains("no token arrived within the 2000 ms of budget left", ex.Message, StringComparison.Ordinal);
        await late.Disposed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, harness.Stub.CallCount);
    }

    [Theory]
    [InlineData("RETRY_AFTER", 3, 3000)] // whole seconds under the standard name, which its typed accessor cannot cast
    [InlineData("retry-after-ms", 1500L, 1500)]
    [InlineData("RetryAfterSeconds", 2.5, 2500)]
    [InlineData("RETRY_AFTER", "4", 4000)]
    public async Task RateLimit_RefusalNamesAWaitUnderAnotherName_TheRejectionCarriesIt(string name, object value, int expectedMs)
    {
        var limiter = new ScriptedLimiter { OnAttempt = Refused, OnAcquire = _ => new ValueTask<RateLimitLease>(new TestLease(false, (name, value))) };
        using var harness = RateLimited(limiter);

        var ex = await Assert.ThrowsAsync<RateLimitRejectedException>(() => harness.CreateClient().GetAsync("/x"));

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), ex.RetryAfter);
        Assert.Contains("refused a permit", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("queue", ex.Message, StringComparison.Ordinal); // it did not say its queue was full: it was not
    }

    [Fact]
    public async Task RateLimit_TheStandardRetryAfterWinsOverOtherNames()
    {
        var lease = new TestLease(false, ("retry-after-ms", 9000), (MetadataName.RetryAfter.Name, TimeSpan.FromMilliseconds(700)));
        using var harness = RateLimited(new ScriptedLimiter { OnAttempt = Refused, OnAcquire = _ => new ValueTask<RateLimitLease>(lease) });

        var ex = await Assert.ThrowsAsync<RateLimitRejectedException>(() => harness.CreateClient().GetAsync("/x"));

        Assert.Equal(TimeSpan.FromMilliseconds(700), ex.RetryAfter);
    }

    [Fact]
    public async Task RateLimit_MaxQueueBoundsTheRequestsWaitingForAPluggedLimiter()
    {
        var limiter = new ScriptedLimiter { OnAttempt = Refused };
        using var harness = RateLimited(limiter, o => o.RateLimit.MaxQueue = 1);
        var client = harness.CreateClient();

        var waiting = client.GetAsync("/first");
        await harness.Clock.NextTimerAsync();
        var ex = await Assert.ThrowsAsync<RateLimitRejectedException>(() => client.GetAsync("/second"));
        limiter.Pending.SetResult(limiter.Grant());
        using var response = await waiting;

        Assert.Contains("1 request(s) already wait", ex.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, harness.Stub.CallCount);
        Assert.True(limiter.Leases.Single().IsDisposed);
    }

    [Fact]
    public async Task SharedBulkhead_ThePermitIsHeldForTheRequestAndGivenBack_TheLocalBulkheadStaysABackstop()
    {
        var limiter = new ScriptedLimiter();
        limiter.OnAttempt = limiter.Grant;
        using var harness = SharedBulkhead(limiter, o => o.Bulkhead.MaxConcurrency = 1);
        var answer = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Stub.Then((_, _) => answer.Task).ThenStatus(HttpStatusCode.OK);
        var client = harness.CreateClient();

        var first = client.GetAsync("/first");
        await harness.Stub.WaitForCallsAsync(1);
        Assert.False(limiter.Leases[0].IsDisposed); // held while the request is in flight

        // The shared limit has room, the local bulkhead (one in flight) does not: it still rejects.
        var ex = await Assert.ThrowsAsync<BulkheadRejectedException>(() => client.GetAsync("/second"));
        Assert.Contains("it is full", ex.Message, StringComparison.Ordinal);
        answer.SetResult(new HttpResponseMessage(HttpStatusCode.OK));
        using var response = await first;

        Assert.All(limiter.Leases, lease => Assert.True(lease.IsDisposed)); // both shared permits given back
    }

    [Fact]
    public async Task SharedBulkhead_PermitGivenBackWhenTheRequestFails()
    {
        var limiter = new ScriptedLimiter();
        limiter.OnAttempt = limiter.Grant;
        using var harness = SharedBulkhead(limiter, o => o.Retry.Enabled = false);
        harness.Stub.ThenThrow(new HttpRequestException("connection refused"));

        await Assert.ThrowsAsync<HttpRequestException>(() => harness.CreateClient().GetAsync("/x"));

        Assert.True(Assert.Single(limiter.Leases).IsDisposed);
    }

    [Fact]
    public async Task SharedBulkhead_LimiterThrows_BulkheadRejectedWithTheFailureInside()
    {
        var down = new InvalidOperationException("store down");
        using var harness = SharedBulkhead(new ScriptedLimiter { OnAttempt = () => throw down });

        var ex = await Assert.ThrowsAsync<BulkheadRejectedException>(() => harness.CreateClient().GetAsync("/x"));

        Assert.Same(down, ex.InnerException);
        Assert.Contains("shared concurrency limit", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, harness.Stub.CallCount);
    }

    [Fact]
    public async Task SharedBulkhead_LimiterThatIgnoresItsToken_TheWaitEndsAtMaxQueueWait_ItsLateLeaseIsGivenBack()
    {
        var limiter = new ScriptedLimiter { OnAttempt = Refused };
        using var harness = SharedBulkhead(limiter, o => o.Bulkhead.MaxQueueWait = TimeSpan.FromMilliseconds(300));

        var pending = harness.CreateClient().GetAsync("/x");
        Assert.Equal(TimeSpan.FromMilliseconds(300), await harness.Clock.NextTimerAsync());
        harness.Clock.Advance(TimeSpan.FromMilliseconds(300));
        var ex = await Assert.ThrowsAsync<BulkheadRejectedException>(() => pending);
        var late = limiter.Grant();
        limiter.Pending.SetResult(late);

        Assert.Contains("had no permit free within 300 ms", ex.Message, StringComparison.Ordinal);
        await late.Disposed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, harness.Stub.CallCount);
    }

    [Fact]
    public async Task RetryAfterOf_IgnoresNamesThatAreNotAWait()
    {
        var lease = new TestLease(false, ("REASON", "quota"), ("RETRY_AFTER", "soon"));
        using var harness = RateLimited(new ScriptedLimiter { OnAttempt = Refused, OnAcquire = _ => new ValueTask<RateLimitLease>(lease) });

        var ex = await Assert.ThrowsAsync<RateLimitRejectedException>(() => harness.CreateClient().GetAsync("/x"));

        Assert.Null(ex.RetryAfter);
    }
}
