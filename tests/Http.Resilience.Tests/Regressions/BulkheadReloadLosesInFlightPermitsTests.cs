using System.Net;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.Tests.Regressions;

/// <summary>
/// A reload that raised the bulkhead limit started the new limits empty: the requests still in flight under the old ones
/// were not counted, so the new limit could be exceeded. They are charged to the new limits until they finish.
/// </summary>
public sealed class BulkheadReloadLosesInFlightPermitsTests
{
    [Fact]
    public async Task SendAsync_Reload_NewLimitAppliesAndInFlightPermitsAreNotLost()
    {
        var max = 1;
        using var h = new ChainHarness(o =>
        {
            o.Bulkhead.MaxConcurrency = max;
            o.Retry.BaseDelay = TimeSpan.Zero;
        });
        h.Stub.ThenHang();
        var client = h.CreateClient();
        using var cts = new CancellationTokenSource();
        var first = client.GetAsync("/", cts.Token);
        await h.Stub.WaitForCallsAsync(1);
        await Assert.ThrowsAsync<BulkheadRejectedException>(() => client.GetAsync("/"));

        max = 3; // reload: 1 -> 3 with one request still in flight on the old limiter
        h.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitorCache<HttpResilienceOptions>>().TryRemove(ChainHarness.ClientName);
        _ = client.GetAsync("/", cts.Token);
        _ = client.GetAsync("/", cts.Token);
        await h.Stub.WaitForCallsAsync(3);
        await Assert.ThrowsAsync<BulkheadRejectedException>(() => client.GetAsync("/")); // 3 in flight: never 4
        Assert.Equal(3, Assert.Single(h.Services.GetRequiredService<IHttpResilienceMonitor>().GetBulkheads()).Active);

        await cts.CancelAsync(); // everyone leaves: every permit comes back, old and new
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        for (var i = 0; i < 100 && Assert.Single(h.Services.GetRequiredService<IHttpResilienceMonitor>().GetBulkheads()).Active > 0; i++)
        {
            await Task.Yield();
        }

        Assert.Equal(0, Assert.Single(h.Services.GetRequiredService<IHttpResilienceMonitor>().GetBulkheads()).Active);
        h.Stub.ThenStatus(HttpStatusCode.OK);
        var again = await Task.WhenAll(client.GetAsync("/"), client.GetAsync("/"), client.GetAsync("/"));
        Assert.All(again, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }
}
