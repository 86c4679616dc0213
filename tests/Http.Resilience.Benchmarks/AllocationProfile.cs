using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.Benchmarks;

/// <summary>
/// Where the happy path's bytes go: allocated bytes per GET (measured on the calling thread; the in-memory handler
/// completes synchronously, so the whole request runs there) with the whole chain, then with one layer at a time
/// turned off. A measurement per layer, not a guess.
/// </summary>
internal static class AllocationProfile
{
    public static IEnumerable<(string Variant, double BytesPerRequest)> Run(int requests = 20_000)
    {
        var variants = new (string Name, Action<HttpResilienceOptions>? Configure)[]
        {
            ("bare HttpClient (no chain)", null),
            ("whole chain, defaults", _ => { }),
            ("- bulkhead off", o => o.Bulkhead.Enabled = false),
            ("- circuit breaker off", o => o.CircuitBreaker.Enabled = false),
            ("- retry off", o => o.Retry.Enabled = false),
            ("- attempt timeout infinite", o => o.AttemptTimeout = Timeout.InfiniteTimeSpan),
            ("- deadline infinite (and attempt timeout)", o => o.Deadline = o.AttemptTimeout = Timeout.InfiniteTimeSpan),
            ("everything off, deadline infinite", o =>
            {
                o.Deadline = o.AttemptTimeout = Timeout.InfiniteTimeSpan;
                o.Bulkhead.Enabled = o.CircuitBreaker.Enabled = o.Retry.Enabled = o.Idempotency.Enabled = false;
            }),
        };

        foreach (var (name, configure) in variants)
        {
            var services = new ServiceCollection();
            var builder = services.AddHttpClient("c", c => c.BaseAddress = new Uri("http://127.0.0.1/"))
                .ConfigurePrimaryHttpMessageHandler(() => new InMemoryHandler(_ => HttpStatusCode.OK));
            if (configure is not null)
            {
                builder.AddHttpResilience(configure);
            }

            using var provider = services.BuildServiceProvider();
            var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("c");
            for (var i = 0; i < 2_000; i++)
            {
                client.GetAsync("x").GetAwaiter().GetResult().Dispose(); // warm up
            }

            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < requests; i++)
            {
                client.GetAsync("x").GetAwaiter().GetResult().Dispose();
            }

            yield return (name, (double)(GC.GetAllocatedBytesForCurrentThread() - before) / requests);
        }
    }
}
