using System.Diagnostics;
using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;

namespace Http.Resilience.IntegrationTests;

/// <summary>The optional outbound rate limit over real HTTP.</summary>
public class RateLimitTests
{
    [Fact]
    public async Task RateLimit_TokenBucket_PacesAndRejectsBursts()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => ctx.Response.WriteAsync("ok"));
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.RateLimit.Enabled = true;
            o.RateLimit.TokenLimit = 1;
            o.RateLimit.TokensPerPeriod = 1;
            o.RateLimit.ReplenishmentPeriod = TimeSpan.FromMilliseconds(200);
        });
        var client = clients.Create();
        var watch = Stopwatch.StartNew();

        for (var i = 0; i < 3; i++)
        {
            using var response = await client.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(190), $"three requests through a 1-token, 200 ms bucket took only {watch.Elapsed}");
        Assert.Equal(3, server.Hits);
    }

    [Fact]
    public async Task RateLimit_NoQueue_BurstBeyondTheBucketIsRejectedUnsent()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => ctx.Response.WriteAsync("ok"));
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.RateLimit.Enabled = true;
            o.RateLimit.TokenLimit = 2;
            o.RateLimit.TokensPerPeriod = 2;
            o.RateLimit.ReplenishmentPeriod = TimeSpan.FromMinutes(10);
            o.RateLimit.MaxQueue = 0;
        });
        var client = clients.Create();

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Record.ExceptionAsync(() => client.GetAsync("/"))));

        Assert.Equal(2, results.Count(r => r is null));
        Assert.Equal(4, results.Count(r => r is RateLimitRejectedException));
        Assert.Equal(2, server.Hits);
    }
}
