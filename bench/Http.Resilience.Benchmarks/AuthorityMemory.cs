using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.Benchmarks;

/// <summary>
/// Memory held by per-authority circuits and bulkheads after a client has called many distinct authorities, through the
/// public API over an in-memory primary handler (nothing leaves the process). A hot authority with an open circuit and a
/// hot authority called throughout must keep their state.
/// </summary>
internal static class AuthorityMemory
{
    public static async Task<IReadOnlyList<string>> RunAsync(int authorities)
    {
        var lines = new List<string>();
        var services = new ServiceCollection();
        services.AddHttpClient("webhooks")
            .ConfigurePrimaryHttpMessageHandler(() => new InMemoryHandler(r => r.RequestUri!.Host == "broken.test" ? HttpStatusCode.InternalServerError : HttpStatusCode.OK))
            .AddHttpResilience(o =>
            {
                o.Retry.Enabled = false;
                o.CircuitBreaker.PerAuthority = true;
                o.CircuitBreaker.MinimumThroughput = 1;
                o.CircuitBreaker.SamplingDuration = TimeSpan.FromDays(1); // the hot authority's window keeps every sample
                o.CircuitBreaker.BreakDuration = TimeSpan.FromDays(1); // the broken authority stays open throughout
                o.Bulkhead.PerAuthority = true;
            });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("webhooks");
        var monitor = provider.GetRequiredService<IHttpResilienceMonitor>();
        using (await client.GetAsync(new Uri("http://broken.test/")).ConfigureAwait(false))
        {
        }

        var baseline = Settle();
        var hot = 0;
        long atCap = 0;
        for (var i = 0; i < authorities; i++)
        {
            using (await client.GetAsync(new Uri(string.Create(CultureInfo.InvariantCulture, $"http://h{i}.test/"))).ConfigureAwait(false))
            {
            }

            if (i % 100 == 0)
            {
                using (await client.GetAsync(new Uri("http://hot.test/")).ConfigureAwait(false))
                {
                }

                hot++;
            }

            if (i == 1_000)
            {
                atCap = Settle() - baseline; // about the cap's worth: 1,000 authorities of state
            }
        }

        var after = Settle() - baseline;
        var circuits = monitor.GetCircuitBreakers();
        var bulkheads = monitor.GetBulkheads();
        var broken = circuits.Single(c => c.Authority == "http://broken.test:80");
        var hotCircuit = circuits.Single(c => c.Authority == "http://hot.test:80");
        lines.Add($"| distinct authorities | {authorities:N0} |");
        lines.Add($"| memory over baseline at 1,000 authorities (the cap's worth) | {atCap / 1024.0 / 1024.0:F2} MB |");
        lines.Add($"| memory over baseline after all of them | {after / 1024.0 / 1024.0:F2} MB |");
        lines.Add($"| circuits / bulkheads kept | {circuits.Count} / {bulkheads.Count} |");
        lines.Add($"| broken authority's circuit | {broken.State} |");
        lines.Add($"| hot authority's window | {hotCircuit.RequestCount} of {hot} requests |");
        return lines;
    }

    private static long Settle()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
