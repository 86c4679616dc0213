using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Http.Resilience.IntegrationTests;

/// <summary>Server pushback and client-side adaptive throttling over real HTTP.</summary>
[Collection(HeavyCollection.Name)]
public class OverloadControlTests(ITestOutputHelper output)
{
    [Fact]
    public async Task PushbackGate_A429NamingAWait_HoldsTheClientBackWithoutAskingTheServerAgain()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, n) =>
        {
            if (n == 1)
            {
                ctx.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                ctx.Response.Headers.RetryAfter = "30";
            }

            return Task.CompletedTask;
        });
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var clients = new Clients(
            server.BaseAddress,
            o =>
            {
                o.Pushback.Gate = true;
                o.Retry.Enabled = false;
            },
            timeProvider: clock);
        var client = clients.Create();
        using (await client.GetAsync("/")) { }

        var rejections = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Record.ExceptionAsync(() => client.GetAsync("/"))));

        Assert.All(rejections, r => Assert.IsType<RateLimitRejectedException>(r));
        Assert.Equal(1, server.Hits); // fifty callers learned the wait without a request each
        clock.Advance(TimeSpan.FromSeconds(30));
        using var after = await client.GetAsync("/");
        Assert.True(after.IsSuccessStatusCode);
        Assert.Equal(2, server.Hits);
    }

    /// <summary>
    /// A backend on 127.0.0.1 that accepts at most 20 requests per (fake) second and answers 503 beyond, offered 100 a
    /// second: with adaptive throttling it receives about K times what it accepts (40), not 100.
    /// </summary>
    [Fact]
    public async Task AdaptiveThrottling_OverloadedBackend_ReceivesAboutKTimesItsAccepts()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var second = -1L;
        var acceptedThisSecond = 0;
        var gate = new object();
        await using var server = await LoopbackServer.StartAsync((ctx, _) =>
        {
            lock (gate)
            {
                var now = clock.GetUtcNow().ToUnixTimeSeconds();
                if (now != second)
                {
                    (second, acceptedThisSecond) = (now, 0);
                }

                ctx.Response.StatusCode = ++acceptedThisSecond <= 20 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            }

            return Task.CompletedTask;
        });
        using var clients = new Clients(
            server.BaseAddress,
            o =>
            {
                o.AdaptiveThrottling.Enabled = true; // K = 2, window 2 min
                o.Retry.Enabled = false;
                o.CircuitBreaker.Enabled = false; // the throttle alone
            },
            timeProvider: clock);
        var client = clients.Create();

        var received = 0;
        for (var s = 0; s < 180; s++)
        {
            var before = server.Hits;
            await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Record.ExceptionAsync(async () =>
            {
                using var response = await client.GetAsync("/");
            })));
            if (s >= 150)
            {
                received += server.Hits - before; // the last half minute, once the window is well filled
            }

            clock.Advance(TimeSpan.FromSeconds(1));
        }

        var perSecond = received / 30.0;
        output.WriteLine($"Offered 100/s to a backend accepting 20/s over HTTP; it received {perSecond:0.0}/s (K = 2).");
        Assert.InRange(perSecond, 30, 52); // about K x 20, not the 100 offered
    }
}
