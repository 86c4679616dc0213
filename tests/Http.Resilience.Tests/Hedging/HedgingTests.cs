using System.Net;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests;

public class HedgingTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(100);

    private static ChainHarness Harness(Action<HttpResilienceOptions>? configure = null, CapturingLoggerProvider? logs = null)
        => new(
            o =>
            {
                o.Hedging.Enabled = true;
                o.Hedging.Delay = Delay;
                configure?.Invoke(o);
            },
            logs: logs);

    /// <summary>Waits until a timer due after <paramref name="due"/> is armed (the attempt timeouts are armed too).</summary>
    private static async Task WaitForTimerAsync(TestClock clock, TimeSpan due)
    {
        while (await clock.NextTimerAsync() != due)
        {
        }
    }

    /// <summary>A step that never answers and signals when its token fires.</summary>
    private static Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> HangUntilCancelled(TaskCompletionSource cancelled)
        => async (_, ct) =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                cancelled.TrySetResult(); // here, not in a registration: one disposed as the wait ends may never run
                throw;
            }

            throw new InvalidOperationException("unreachable");
        };

    [Fact]
    public void Defaults_OffOneCopyAdaptiveAtP95()
    {
        var options = new HttpResilienceOptions().Hedging;
        Assert.False(options.Enabled);
        Assert.Equal(1, options.MaxHedgedAttempts);
        Assert.Null(options.Delay);
        Assert.Equal(95, options.Percentile);
        Assert.Equal(TimeSpan.FromMilliseconds(5), options.MinDelay);
    }

    [Fact]
    public async Task SlowAttempt_AfterTheDelayACopyGoesOut_TheFirstAnswerWins_TheSlowOneIsCancelled()
    {
        using var harness = Harness();
        var primaryCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Stub.Then(HangUntilCancelled(primaryCancelled)).ThenStatus(HttpStatusCode.OK);
        var client = harness.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/slow");

        var pending = client.SendAsync(request);
        await WaitForTimerAsync(harness.Clock, Delay);
        Assert.Equal(1, harness.Stub.CallCount); // nothing more before the delay
        harness.Clock.Advance(Delay);
        using var response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, harness.Stub.CallCount);
        Assert.Same(request, response.RequestMessage); // the caller's request, not the copy's
        await primaryCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task FastAttempt_NoCopy()
    {
        using var harness = Harness();
        harness.Stub.ThenStatus(HttpStatusCode.OK);
        var client = harness.CreateClient();

        using var response = await client.GetAsync("/fast");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        harness.Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, harness.Stub.CallCount);
    }

    [Fact]
    public async Task PostWithKey_EveryCopyCarriesTheSameKeyAndBody()
    {
        using var harness = Harness();
        var primaryCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Stub.Then(HangUntilCancelled(primaryCancelled)).ThenStatus(HttpStatusCode.Created);
        var client = harness.CreateClient();

        var pending = client.PostAsync("/orders", new StringContent("{\"id\":1}"));
        await WaitForTimerAsync(harness.Clock, Delay);
        harness.Clock.Advance(Delay);
        using var response = await pending;

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(2, harness.Stub.CallCount);
        var keys = harness.Stub.Calls.Select(c => c.Headers["Idempotency-Key"]).Distinct().ToList();
        Assert.Single(keys);
        Assert.All(harness.Stub.Calls, c => Assert.Equal("{\"id\":1}", System.Text.Encoding.UTF8.GetString(c.Body!)));
    }

    [Fact]
    public async Task StreamBody_IsBufferedAndSentByEveryCopy()
    {
        using var harness = Harness(o => o.Retry.Enabled = false); // the hedging layer buffers it itself
        var primaryCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Stub.Then(HangUntilCancelled(primaryCancelled)).ThenStatus(HttpStatusCode.OK);
        var client = harness.CreateClient();
        var body = new byte[10_000];
        Random.Shared.NextBytes(body);

        var pending = client.PutAsync("/blob", new StreamContent(new MemoryStream(body)));
        await WaitForTimerAsync(harness.Clock, Delay);
        harness.Clock.Advance(Delay);
        using var response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, harness.Stub.CallCount);
        Assert.All(harness.Stub.Calls, c => Assert.Equal(body, c.Body));
    }

    [Fact]
    public async Task PostWithoutKey_IsNeverHedged()
    {
        using var harness = Harness(o => o.Idempotency.Enabled = false);
        var answer = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Stub.Then((_, _) => answer.Task);
        var client = harness.CreateClient();

        var pending = client.PostAsync("/orders", new StringContent("x"));
        await harness.Stub.WaitForCallsAsync(1);
        harness.Clock.Advance(TimeSpan.FromSeconds(1)); // ten delays, still within the attempt timeout
        answer.SetResult(new HttpResponseMessage(HttpStatusCode.OK));
        using var response = await pending;

        Assert.Equal(1, harness.Stub.CallCount);
        Assert.False(harness.Clock.TryGetArmedTimer(out var due) && due == Delay);
    }

    [Theory]
    [InlineData(HttpStatusCode.OK)] // the other copy's answer wins
    [InlineData(HttpStatusCode.BadGateway)] // every copy failed: the last failure is the attempt's outcome
    public async Task FailedCopyWhileAnotherIsInFlight_TheOtherIsAwaited_AndTheFailureDisposed(HttpStatusCode second)
    {
        using var harness = Harness(o => o.Retry.MaxRetries = 0);
        var primary = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        var hedge = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Stub.Then((_, _) => primary.Task).Then((_, _) => hedge.Task);
        var client = harness.CreateClient();

        var pending = client.GetAsync("/x");
        await WaitForTimerAsync(harness.Clock, Delay);
        harness.Clock.Advance(Delay);
        await harness.Stub.WaitForCallsAsync(2);
        var failed = new TrackingContent();
        primary.SetResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = failed });
        hedge.SetResult(new HttpResponseMessage(second));
        using var response = await pending;

        Assert.Equal(second, response.StatusCode);
        Assert.True(failed.IsDisposed);
    }

    [Fact]
    public async Task LoserThatAnswersAfterTheWinner_ItsResponseIsDisposed()
    {
        using var harness = Harness();
        var late = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Stub.Then((_, _) => late.Task).ThenStatus(HttpStatusCode.OK); // the first copy ignores its cancellation
        var client = harness.CreateClient();

        var pending = client.GetAsync("/x");
        await WaitForTimerAsync(harness.Clock, Delay);
        harness.Clock.Advance(Delay);
        using var response = await pending;
        var loser = new TrackingContent();
        late.SetResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = loser });

        await loser.Disposed.WaitAsync(TimeSpan.FromSeconds(10)); // disposed on the pool, after the winner returned
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task HedgesDrawOnTheRetryBudget_OnceItIsEmptyTheSlowAttemptIsAwaitedAlone()
    {
        using var harness = Harness(o =>
        {
            o.Retry.Budget.Ratio = 0;
            o.Retry.Budget.MinRetriesPerSecond = 1; // a reserve of 10 over the 10 s window, and nothing more
        });
        var client = harness.CreateClient();
        for (var i = 0; i < 10; i++)
        {
            var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            harness.Stub.Then(HangUntilCancelled(cancelled)).ThenStatus(HttpStatusCode.OK);
            var pending = client.GetAsync("/x");
            await WaitForTimerAsync(harness.Clock, Delay);
            harness.Clock.Advance(Delay);
            using var hedged = await pending;
            await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(20, harness.Stub.CallCount);
        var answer = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Stub.Then((_, _) => answer.Task);
        var last = client.GetAsync("/x");
        await WaitForTimerAsync(harness.Clock, Delay);
        harness.Clock.Advance(Delay);
        harness.Clock.Advance(Delay);
        answer.SetResult(new HttpResponseMessage(HttpStatusCode.OK));
        using var response = await last;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(21, harness.Stub.CallCount);
        var budget = harness.Registry.GetOrAdd(ChainHarness.ClientName).RetryBudget!;
        Assert.Equal(0, budget.Available(harness.Clock.GetTimestamp()), 3);
    }

    [Fact]
    public async Task HedgingWithRetriesOff_StillDrawsOnTheRetryBudget()
    {
        using var harness = Harness(o =>
        {
            o.Retry.Enabled = false;
            o.Retry.Budget.Ratio = 0;
            o.Retry.Budget.MinRetriesPerSecond = 0;
        });
        var answer = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Stub.Then((_, _) => answer.Task);
        var client = harness.CreateClient();

        var pending = client.GetAsync("/x");
        await WaitForTimerAsync(harness.Clock, Delay);
        harness.Clock.Advance(Delay);
        answer.SetResult(new HttpResponseMessage(HttpStatusCode.OK));
        using var response = await pending;

        Assert.Equal(1, harness.Stub.CallCount);
    }

    [Fact]
    public async Task AdaptiveDelay_NoCopyUntilEnoughLatencies_ThenThePercentileOfThem()
    {
        using var harness = new ChainHarness(o => o.Hedging.Enabled = true);
        var client = harness.CreateClient();
        var latencies = harness.Registry.GetOrAdd(ChainHarness.ClientName).HedgingLatencies;

        // 100 attempts: 90 take 10 ms, 10 take 50 ms.
        for (var i = 0; i < HttpResilienceDefaults.HedgingMinSamples; i++)
        {
            Assert.Null(latencies.LastDelay);
            var took = TimeSpan.FromMilliseconds(i % 10 == 9 ? 50 : 10);
            var answer = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
            harness.Stub.Then((_, _) => answer.Task);
            var pending = client.GetAsync("/x");
            await harness.Stub.WaitForCallsAsync(i + 1);
            harness.Clock.Advance(took);
            answer.SetResult(new HttpResponseMessage(HttpStatusCode.OK));
            using var response = await pending;
        }

        Assert.Equal(100, harness.Stub.CallCount); // none hedged

        // p95 falls among the 50 ms ones: the delay is that bucket's upper bound (within 6.25 %).
        var primaryCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Stub.Then(HangUntilCancelled(primaryCancelled)).ThenStatus(HttpStatusCode.OK);
        var slow = client.GetAsync("/x");
        await harness.Stub.WaitForCallsAsync(101);
        var delay = latencies.LastDelay!.Value;
        Assert.InRange(delay.TotalMilliseconds, 50, 53.2);
        await WaitForTimerAsync(harness.Clock, delay);
        harness.Clock.Advance(delay);
        using var hedged = await slow;
        Assert.Equal(102, harness.Stub.CallCount);
    }

    [Fact]
    public async Task AdaptiveDelay_IsFlooredByMinDelay()
    {
        using var harness = new ChainHarness(o =>
        {
            o.Hedging.Enabled = true;
            o.Hedging.MinDelay = TimeSpan.FromMilliseconds(30);
        });
        var client = harness.CreateClient();
        for (var i = 0; i < HttpResilienceDefaults.HedgingMinSamples; i++)
        {
            using var response = await client.GetAsync("/x"); // answers at once: 0 ms latencies
        }

        harness.Stub.ThenStatus(HttpStatusCode.OK);
        using var last = await client.GetAsync("/x");
        Assert.Equal(TimeSpan.FromMilliseconds(30), harness.Registry.GetOrAdd(ChainHarness.ClientName).HedgingLatencies.LastDelay);
    }

    [Fact]
    public async Task CallerCancels_EveryCopyIsCancelled_AndTheCallerSeesItsCancellation()
    {
        using var harness = Harness();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Stub.Then(HangUntilCancelled(first)).Then(HangUntilCancelled(second));
        var client = harness.CreateClient();
        using var cts = new CancellationTokenSource();

        var pending = client.GetAsync("/x", cts.Token);
        await WaitForTimerAsync(harness.Clock, Delay);
        harness.Clock.Advance(Delay);
        await harness.Stub.WaitForCallsAsync(2);
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        await Task.WhenAll(first.Task, second.Task).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, harness.Stub.CallCount);
    }

    [Fact]
    public async Task MaxHedgedAttempts_CopiesGoOutOneDelayApart()
    {
        using var harness = Harness(o => o.Hedging.MaxHedgedAttempts = 2);
        var cancelled = new[] { new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        harness.Stub.Then(HangUntilCancelled(cancelled[0])).Then(HangUntilCancelled(cancelled[1])).ThenStatus(HttpStatusCode.OK);
        var client = harness.CreateClient();

        var pending = client.GetAsync("/x");
        await WaitForTimerAsync(harness.Clock, Delay);
        harness.Clock.Advance(Delay);
        await harness.Stub.WaitForCallsAsync(2);
        await WaitForTimerAsync(harness.Clock, Delay);
        Assert.Equal(2, harness.Stub.CallCount);
        harness.Clock.Advance(Delay);
        using var response = await pending;

        Assert.Equal(3, harness.Stub.CallCount);
        await Task.WhenAll(cancelled[0].Task, cancelled[1].Task).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task HedgeSent_IsLogged()
    {
        var logs = new CapturingLoggerProvider();
        using var harness = Harness(logs: logs);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Stub.Then(HangUntilCancelled(cancelled)).ThenStatus(HttpStatusCode.OK);
        var client = harness.CreateClient();

        var pending = client.GetAsync("/x");
        await WaitForTimerAsync(harness.Clock, Delay);
        harness.Clock.Advance(Delay);
        using var response = await pending;

        var entry = Assert.Single(logs.Entries, e => e.EventId.Name == "HedgeSent");
        Assert.Contains("fixed hedging delay of 100.0 ms", entry.Message, StringComparison.Ordinal);
    }
}
