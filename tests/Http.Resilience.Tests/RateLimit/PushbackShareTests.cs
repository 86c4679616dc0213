using System.Net;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.Time.Testing;

namespace Http.Resilience.Tests;

/// <summary>While a dependency keeps naming waits, the client keeps to about 1.5 requests per accepted one.</summary>
public class PushbackShareTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void NoPushback_CountsNothing_AndShedsNothing()
    {
        var share = new PushbackShare(_time.TimestampFrequency);
        var now = _time.GetTimestamp();

        Assert.False(share.IsWatching(now));
        Assert.Equal(0, share.SheddingProbability(now));
    }

    [Fact]
    public void AFewNamedWaits_AreABurst_AndShedNothing()
    {
        var share = new PushbackShare(_time.TimestampFrequency);
        var now = _time.GetTimestamp();
        for (var i = 0; i < PushbackShare.MinimumPushbacks - 1; i++)
        {
            share.RecordPushback(now, TimeSpan.FromSeconds(1));
        }

        Assert.True(share.IsWatching(now));
        Assert.Equal(0, share.SheddingProbability(now));
    }

    [Fact]
    public void SteadyPushback_ShedsDownToOneAndAHalfRequestsPerAccepted()
    {
        // 400 requests asked for, 100 accepted, 300 turned away with a named wait.
        var share = new PushbackShare(_time.TimestampFrequency);
        var now = _time.GetTimestamp();
        share.RecordPushback(now, TimeSpan.FromSeconds(1));
        for (var i = 0; i < 399; i++)
        {
            share.RecordRequest(now);
        }

        for (var i = 0; i < 299; i++)
        {
            share.RecordPushback(now, TimeSpan.FromSeconds(1));
        }

        for (var i = 0; i < 100; i++)
        {
            share.RecordAccept(now);
        }

        var probability = share.SheddingProbability(now);

        Assert.Equal((400 - (1.5 * 100)) / 401, probability, 6); // sends about 150 of the 400
        Assert.Equal(TimeSpan.FromSeconds(1), share.LastWait);
    }

    [Fact]
    public void PushbackOlderThanTheWindow_IsForgotten()
    {
        var share = new PushbackShare(_time.TimestampFrequency);
        for (var i = 0; i < 50; i++)
        {
            share.RecordPushback(_time.GetTimestamp(), TimeSpan.FromSeconds(1));
        }

        Assert.True(share.SheddingProbability(_time.GetTimestamp()) > 0);
        _time.Advance(PushbackShare.Window);

        Assert.False(share.IsWatching(_time.GetTimestamp()));
        Assert.Equal(0, share.SheddingProbability(_time.GetTimestamp()));
    }

    private static ChainHarness Create(Action<HttpResilienceOptions>? configure = null) => new(o =>
    {
        o.CircuitBreaker.Enabled = false; // a 429 never opens it anyway; kept out of the arithmetic
        configure?.Invoke(o);
    });

    private static void RetryAfterOneSecond(HttpResponseMessage response) => response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(1));

    [Fact]
    public async Task Chain_SteadyPushback_RejectsNewRequestsLocally_WithTheNamedWait()
    {
        using var h = Create(o => o.Retry.Enabled = false);
        h.Registry.ThrottleRandom = () => 0; // any positive probability rejects
        for (var i = 0; i < PushbackShare.MinimumPushbacks; i++)
        {
            h.Stub.ThenStatus(HttpStatusCode.TooManyRequests, RetryAfterOneSecond);
        }

        var client = h.CreateClient();
        for (var i = 0; i < PushbackShare.MinimumPushbacks; i++)
        {
            using var response = await client.GetAsync("/");
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        }

        var ex = await Assert.ThrowsAsync<RateLimitRejectedException>(() => client.GetAsync("/"));

        Assert.Equal(PushbackShare.MinimumPushbacks, h.Stub.CallCount); // not sent
        Assert.Equal(TimeSpan.FromSeconds(1), ex.RetryAfter);
        Assert.Contains("turning this client's requests away with a named wait", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)] // the rate-limit layer notes the pushback itself
    [InlineData(true)] // the circuit layer notes it, as it looks at every response anyway
    public async Task Chain_NotesPushbackWithOrWithoutTheCircuit(bool circuit)
    {
        using var h = new ChainHarness(o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.Enabled = circuit;
        });
        h.Registry.ThrottleRandom = () => 0;
        for (var i = 0; i < PushbackShare.MinimumPushbacks; i++)
        {
            h.Stub.ThenStatus(HttpStatusCode.TooManyRequests, RetryAfterOneSecond);
        }

        var client = h.CreateClient();
        for (var i = 0; i < PushbackShare.MinimumPushbacks; i++)
        {
            using var refused = await client.GetAsync("/");
        }

        await Assert.ThrowsAsync<RateLimitRejectedException>(() => client.GetAsync("/"));
        Assert.Equal(PushbackShare.MinimumPushbacks, h.Stub.CallCount);
    }

    [Fact]
    public async Task Chain_Burst_RetryWaitsOutTheNamedWait()
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.TooManyRequests, RetryAfterOneSecond).ThenStatus(HttpStatusCode.OK);
        var client = h.CreateClient();

        var pending = client.GetAsync("/");
        await h.Stub.WaitForCallsAsync(1);
        Assert.False(pending.IsCompleted);
        h.Clock.Advance(TimeSpan.FromSeconds(1));
        using var response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Stub.CallCount);
    }

    [Fact]
    public async Task Chain_SteadyPushback_RetryDoesNotWaitOutTheNamedWait()
    {
        using var h = Create();
        h.Registry.ThrottleRandom = () => 0.999_999; // admit every new request: this test is about the retry
        var share = h.Registry.GetOrAdd(ChainHarness.ClientName).GetPushback(h.Clock.TimestampFrequency);
        for (var i = 0; i < PushbackShare.MinimumPushbacks; i++)
        {
            share.RecordPushback(h.Clock.GetTimestamp(), TimeSpan.FromSeconds(1)); // the server has been turning this client away
        }

        h.Stub.ThenStatus(HttpStatusCode.TooManyRequests, RetryAfterOneSecond).ThenStatus(HttpStatusCode.OK);
        var client = h.CreateClient();

        using var response = await client.GetAsync("/"); // completes without the clock moving: it did not sleep

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task Chain_KeepWithinQuotaOff_WaitsOutEveryNamedWait()
    {
        using var h = Create(o =>
        {
            o.Pushback.KeepWithinQuota = false;
            o.Retry.Enabled = false;
        });
        h.Registry.ThrottleRandom = () => 0;
        for (var i = 0; i < PushbackShare.MinimumPushbacks; i++)
        {
            h.Stub.ThenStatus(HttpStatusCode.TooManyRequests, RetryAfterOneSecond);
        }

        h.Stub.ThenStatus(HttpStatusCode.OK);
        var client = h.CreateClient();
        for (var i = 0; i < PushbackShare.MinimumPushbacks; i++)
        {
            using var refused = await client.GetAsync("/");
        }

        using var response = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // sent, not rejected locally
    }
}
