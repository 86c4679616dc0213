using System.Net;
using System.Threading.RateLimiting;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests;

public class RateLimitHandlerTests
{
    private static ChainHarness Create(Action<HttpResilienceOptions>? configure = null)
        => new(o =>
        {
            o.RateLimit.Enabled = true;
            o.RateLimit.TokenLimit = 1;
            o.RateLimit.TokensPerPeriod = 1;
            o.RateLimit.ReplenishmentPeriod = TimeSpan.FromSeconds(1);
            configure?.Invoke(o);
        });

    // The waiting logic is driven through UseLimiter with a limiter the test controls: the platform's token bucket
    // measures time itself (no TimeProvider), so its pacing is covered by a real-time integration test instead.
    [Fact]
    public async Task SendAsync_NoToken_WaitsForOneWithinTheBudget()
    {
        using var gate = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 1, QueueLimit = 5 });
        var held = gate.AttemptAcquire();
        using var h = Create(o => o.RateLimit.UseLimiter(gate));

        var send = h.CreateClient().GetAsync("/");
        Assert.False(send.IsCompleted);
        Assert.Equal(0, h.Stub.CallCount);
        held.Dispose(); // a token arrives

        using var response = await send;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_NoTokenWithinTheBudget_RejectsWithoutSending()
    {
        using var gate = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 1, QueueLimit = 5 });
        using var held = gate.AttemptAcquire();
        using var h = Create(o =>
        {
            o.Deadline = o.AttemptTimeout = TimeSpan.FromMilliseconds(500);
            o.RateLimit.UseLimiter(gate);
        });

        var send = h.CreateClient().GetAsync("/");
        Assert.Equal(TimeSpan.FromMilliseconds(500), await h.Clock.NextTimerAsync()); // the wait for a token: the budget left
        h.Clock.Advance(TimeSpan.FromMilliseconds(500));

        var ex = await Assert.ThrowsAsync<RateLimitRejectedException>(() => send);
        Assert.Contains("'test'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_TokenBucketEmptyAndNoQueue_RejectsAtOnce()
    {
        using var h = Create(o =>
        {
            o.RateLimit.MaxQueue = 0;
            o.RateLimit.ReplenishmentPeriod = TimeSpan.FromHours(1);
        });
        var client = h.CreateClient();
        using (await client.GetAsync("/"))
        {
        }

        await Assert.ThrowsAsync<RateLimitRejectedException>(() => client.GetAsync("/"));
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_CustomLimiter_IsUsedInsteadOfTheBucket()
    {
        using var custom = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 1, QueueLimit = 0 });
        using var held = custom.AttemptAcquire();
        using var h = Create(o => o.RateLimit.UseLimiter(custom));

        await Assert.ThrowsAsync<RateLimitRejectedException>(() => h.CreateClient().GetAsync("/"));
        Assert.Equal(0, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_DisabledByDefault()
    {
        using var h = new ChainHarness();
        var client = h.CreateClient();
        for (var i = 0; i < 20; i++)
        {
            using var _ = await client.GetAsync("/");
        }

        Assert.Equal(20, h.Stub.CallCount);
        Assert.False(new HttpResilienceOptions().RateLimit.Enabled);
    }
}
