using System.Net;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests;

/// <summary>The pushback gate: a server-named wait holds back the whole client instead of each caller learning it anew.</summary>
public class PushbackGateTests
{
    private static ChainHarness Create(Action<HttpResilienceOptions>? configure = null)
        => new(o =>
        {
            o.Pushback.Gate = true;
            o.Retry.Enabled = false;
            configure?.Invoke(o);
        });

    [Fact]
    public async Task ServerNamedWait_LaterRequestsFailFastUntilIt_ThenGoThrough()
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.TooManyRequests, r => r.Headers.Add("Retry-After", "5")).ThenStatus(HttpStatusCode.OK);
        var client = h.CreateClient();
        using (var first = await client.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        }

        h.Clock.Advance(TimeSpan.FromSeconds(2));
        var ex = await Assert.ThrowsAsync<RateLimitRejectedException>(() => client.GetAsync("/"));
        Assert.Equal(TimeSpan.FromSeconds(3), ex.RetryAfter);
        Assert.Contains("the server asked this client to wait", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, h.Stub.CallCount); // the 500 callers behind it did not each send one more request

        h.Clock.Advance(TimeSpan.FromSeconds(3));
        using var after = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task RateLimitHeaders_CloseTheGateToo_BoundedByMaxRetryAfter()
    {
        using var h = Create(o => o.Retry.MaxRetryAfter = TimeSpan.FromSeconds(10));
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable, r => r.Headers.TryAddWithoutValidation("RateLimit", "\"default\";r=0;t=3600")).ThenStatus(HttpStatusCode.OK);
        var client = h.CreateClient();
        using (await client.GetAsync("/")) { }

        var ex = await Assert.ThrowsAsync<RateLimitRejectedException>(() => client.GetAsync("/"));
        Assert.Equal(TimeSpan.FromSeconds(10), ex.RetryAfter); // an hour asked, ten seconds at most

        h.Clock.Advance(TimeSpan.FromSeconds(10));
        using var after = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task GateOff_ByDefault_EachRequestGoesToTheServer()
    {
        using var h = new ChainHarness(o => o.Retry.Enabled = false);
        h.Stub.ThenStatus(HttpStatusCode.TooManyRequests, r => r.Headers.Add("Retry-After", "5"));
        var client = h.CreateClient();
        using (await client.GetAsync("/")) { }
        using (await client.GetAsync("/")) { }

        Assert.Equal(2, h.Stub.CallCount);
    }

    [Fact]
    public async Task GateClosed_TheFallbackIsServed()
    {
        using var h = Create(o =>
        {
            o.Fallback.Enabled = true;
            o.Fallback.UseResponse((_, failure) => new HttpResponseMessage(HttpStatusCode.Accepted));
        });
        h.Stub.ThenStatus(HttpStatusCode.TooManyRequests, r => r.Headers.Add("Retry-After", "5"));
        var client = h.CreateClient();
        using (await client.GetAsync("/")) { }

        using var served = await client.GetAsync("/");

        Assert.Equal(FallbackReason.RateLimited, served.GetFallbackInfo()!.Value.Reason);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task CallersWaitingOutTheServersWait_AreSpreadAfterIt_NotAllAtOnce()
    {
        using var h = new ChainHarness(
            o =>
            {
                o.Pushback.Gate = true;
                o.Retry.MaxRetries = 1;
            },
            jitter: 0.5);
        h.Stub.ThenStatus(HttpStatusCode.TooManyRequests, r => r.Headers.Add("Retry-After", "5")).ThenStatus(HttpStatusCode.OK);
        var send = h.CreateClient().GetAsync("/");

        Assert.Equal(TimeSpan.FromSeconds(5.5), await h.Clock.NextTimerAsync()); // 5 s asked, plus half of the 1 s spread
        h.Clock.Advance(TimeSpan.FromSeconds(5.5));
        using var response = await send;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
