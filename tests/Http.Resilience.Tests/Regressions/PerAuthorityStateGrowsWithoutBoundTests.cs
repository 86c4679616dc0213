using System.Net;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.Tests.Regressions;

/// <summary>
/// With per-authority circuits and bulkheads, every host a client ever called kept a circuit and a bulkhead forever. Idle
/// closed ones are now evicted past the cap; open circuits, bulkheads in flight and hot authorities keep their state.
/// </summary>
public sealed class PerAuthorityStateGrowsWithoutBoundTests
{
    private const int Cap = 100;

    [Fact]
    public async Task TenThousandAuthorities_StateStaysNearTheCap_OpenCircuitsBusyBulkheadsAndHotAuthoritiesKeepTheirs()
    {
        using var h = new ChainHarness(o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.PerAuthority = true;
            o.CircuitBreaker.MinimumThroughput = 1;
            o.CircuitBreaker.MaxAuthorities = Cap;
            o.Bulkhead.PerAuthority = true;
            o.Bulkhead.MaxAuthorities = Cap;
        });
        h.Stub.Then((request, ct) => request.RequestUri!.Host switch
        {
            "broken.test" => Task.FromResult(new HttpResponseMessage(HttpStatusCode.InternalServerError)),
            "held.test" => Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => new HttpResponseMessage(HttpStatusCode.OK), TaskScheduler.Default),
            _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)),
        });
        var client = h.CreateClient();
        var monitor = h.Services.GetRequiredService<IHttpResilienceMonitor>();

        using (await client.GetAsync("http://broken.test/")) { } // opens broken.test's circuit
        using var hold = new CancellationTokenSource();
        var held = client.GetAsync("http://held.test/", hold.Token); // holds held.test's bulkhead
        await h.Stub.WaitForCallsAsync(2);

        var hot = 0;
        for (var i = 0; i < 10_000; i++)
        {
            using (await client.GetAsync($"http://h{i}.test/")) { }
            if (i % 10 == 0)
            {
                using (await client.GetAsync("http://hot.test/")) { }
                hot++;
            }

            if (i % 500 == 0)
            {
                Assert.InRange(monitor.GetCircuitBreakers().Count, 1, Cap + (Cap / 4));
                Assert.InRange(monitor.GetBulkheads().Count, 1, Cap + (Cap / 4));
            }
        }

        var circuits = monitor.GetCircuitBreakers();
        var bulkheads = monitor.GetBulkheads();
        Assert.InRange(circuits.Count, 1, Cap + (Cap / 4));
        Assert.InRange(bulkheads.Count, 1, Cap + (Cap / 4));
        Assert.Equal(CircuitState.Open, circuits.Single(c => c.Authority == "http://broken.test:80").State);
        Assert.Equal(hot, circuits.Single(c => c.Authority == "http://hot.test:80").RequestCount); // never forgotten
        Assert.Equal(1, bulkheads.Single(b => b.Authority == "http://held.test:80").Active);
        await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync("http://broken.test/"));

        await hold.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);
    }

    [Fact]
    public void AuthorityMap_EvictedBulkheadIsRetired_APermitTakenFromItIsGivenBack()
    {
        var map = new AuthorityMap<BulkheadState>();
        var options = new BulkheadOptions { MaxConcurrency = 1, PerAuthority = true };
        var first = map.GetOrAdd("http://a:80", 1, static (authority, o) => new BulkheadState("test", authority, o), options);
        first.ClearUsed();
        Assert.True(first.TryRetire());

        Assert.True(first.IsRetired); // a request that still holds this instance sees it and asks the map again
        Assert.True(first.TryAcquire(options, out var generation, out var permit)); // the permit itself is free...
        generation.Release(permit); // ...and the handler gives it back when it sees the mark
        Assert.Equal(0, first.Current.InFlight);
    }

    [Fact]
    public void TryRetire_BulkheadWithARequestInFlight_StaysAndIsNotMarked()
    {
        var options = new BulkheadOptions { MaxConcurrency = 1 };
        var bulkhead = new BulkheadState("test", "http://a:80", options);
        Assert.True(bulkhead.TryAcquire(options, out var generation, out var permit));

        Assert.False(bulkhead.TryRetire());
        Assert.False(bulkhead.IsRetired);
        generation.Release(permit);
        Assert.True(bulkhead.TryRetire());
    }
}
