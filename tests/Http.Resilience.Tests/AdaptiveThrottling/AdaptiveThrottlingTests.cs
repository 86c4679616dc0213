using System.Net;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Http.Resilience.Tests;

public class AdaptiveThrottlingTests(ITestOutputHelper output)
{
    [Fact]
    public void Defaults_OffWithSresKAndWindow()
    {
        var options = new HttpResilienceOptions().AdaptiveThrottling;
        Assert.False(options.Enabled);
        Assert.Equal(2, options.K);
        Assert.Equal(TimeSpan.FromMinutes(2), options.Window);
    }

    [Fact]
    public async Task HealthyDependency_NothingIsRejected()
    {
        using var h = new ChainHarness(o => o.AdaptiveThrottling.Enabled = true);
        h.Registry.ThrottleRandom = () => 0; // any positive probability would reject
        var client = h.CreateClient();

        for (var i = 0; i < 200; i++)
        {
            using var response = await client.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(200, h.Stub.CallCount);
    }

    [Fact]
    public async Task Rejection_IsLocal_TypedAndServedTheFallbackWhenOn()
    {
        using var h = new ChainHarness(o =>
        {
            o.AdaptiveThrottling.Enabled = true;
            o.Retry.Enabled = false;
            o.CircuitBreaker.Enabled = false;
            o.Fallback.Enabled = true;
            o.Fallback.UseResponse((_, failure) => failure.Reason == FallbackReason.Throttled ? new HttpResponseMessage(HttpStatusCode.Accepted) : null);
        });
        h.Registry.ThrottleRandom = () => 0;
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable);
        var client = h.CreateClient();
        using (await client.GetAsync("/")) { } // one request, no accept: the next is rejected with probability 1/2

        using var served = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.Accepted, served.StatusCode);
        Assert.Equal(FallbackReason.Throttled, served.GetFallbackInfo()!.Value.Reason);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task Rejection_WithoutFallback_IsAnAdaptiveThrottleRejectedException()
    {
        using var h = new ChainHarness(o =>
        {
            o.AdaptiveThrottling.Enabled = true;
            o.Retry.Enabled = false;
            o.CircuitBreaker.Enabled = false;
        });
        h.Registry.ThrottleRandom = () => 0;
        h.Stub.ThenStatus(HttpStatusCode.TooManyRequests);
        var client = h.CreateClient();
        using (await client.GetAsync("/")) { }

        var ex = await Assert.ThrowsAsync<AdaptiveThrottleRejectedException>(() => client.GetAsync("/"));
        Assert.Contains("was not sent", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<HttpResilienceException>(ex);
    }

    /// <summary>
    /// Google SRE's claim, on a simulated overload: a backend that accepts at most 100 requests a second, asked for 500 a
    /// second, receives about K times what it accepts (200), not 500.
    /// </summary>
    [Fact]
    public async Task Overload_BackendAcceptingOneHundredPerSecondOfFiveHundredOffered_ReceivesAboutKTimesItsAccepts()
    {
        using var h = new ChainHarness(o =>
        {
            o.AdaptiveThrottling.Enabled = true; // K = 2, window 2 min
            o.Retry.Enabled = false;
            o.CircuitBreaker.Enabled = false; // the throttle alone
        });
        h.Registry.ThrottleRandom = new Random(7).NextDouble;
        var second = -1L;
        var acceptedThisSecond = 0;
        h.Stub.Then((_, _) =>
        {
            var now = h.Clock.GetUtcNow().ToUnixTimeSeconds();
            if (now != second)
            {
                (second, acceptedThisSecond) = (now, 0);
            }

            return Task.FromResult(new HttpResponseMessage(++acceptedThisSecond <= 100 ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable));
        });
        var client = h.CreateClient();

        var received = 0;
        for (var s = 0; s < 240; s++)
        {
            var before = h.Stub.CallCount;
            for (var i = 0; i < 500; i++)
            {
                try
                {
                    using var _ = await client.GetAsync("/");
                }
                catch (AdaptiveThrottleRejectedException)
                {
                }
            }

            if (s >= 180)
            {
                received += h.Stub.CallCount - before; // the last minute, once the window is full
            }

            h.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        var perSecond = received / 60.0;
        output.WriteLine($"Offered 500/s to a backend accepting 100/s; it received {perSecond:0.0}/s over the last minute (K = 2).");
        Assert.InRange(perSecond, 170, 240); // about K x 100 accepted, not the 500 offered
        Assert.Single(h.Services.GetRequiredService<IHttpResilienceMonitor>().GetBulkheads());
    }
}
