using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.Benchmarks;

/// <summary>
/// Where the happy path's cost goes: the whole chain, then one layer at a time turned off. Bytes per GET are measured on
/// the calling thread (the in-memory handler completes synchronously, so the whole request runs there); time per GET is
/// the best of several rounds that take the variants in turn, so drift hits them all alike. A rough split by layer, for
/// finding what to fix: BenchmarkDotNet stays the measure of record.
/// </summary>
internal static class AllocationProfile
{
    private static readonly (string Name, Action<HttpResilienceOptions>? Configure)[] Variants =
    [
        ("bare HttpClient (no chain)", null),
        ("whole chain, defaults", _ => { }),
        ("- bulkhead off", o => o.Bulkhead.Enabled = false),
        ("- circuit breaker off", o => o.CircuitBreaker.Enabled = false),
        ("- retry off", o => o.Retry.Enabled = false),
        ("- attempt timeout infinite", o => o.AttemptTimeout = Timeout.InfiniteTimeSpan),
        ("- deadline infinite (and attempt timeout)", o => o.Deadline = o.AttemptTimeout = Timeout.InfiniteTimeSpan),
        ("everything off (deadline 10 s)", o => o.Bulkhead.Enabled = o.CircuitBreaker.Enabled = o.Retry.Enabled = o.Idempotency.Enabled = false),
        ("everything off, deadline infinite", o =>
        {
            o.Deadline = o.AttemptTimeout = Timeout.InfiniteTimeSpan;
            o.Bulkhead.Enabled = o.CircuitBreaker.Enabled = o.Retry.Enabled = o.Idempotency.Enabled = false;
        }),
    ];

    public static IEnumerable<(string Variant, double BytesPerRequest)> Run(int requests = 20_000)
    {
        var clients = Build(out var providers);
        try
        {
            for (var v = 0; v < Variants.Length; v++)
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                Send(clients[v], requests);
                yield return (Variants[v].Name, (double)(GC.GetAllocatedBytesForCurrentThread() - before) / requests);
            }
        }
        finally
        {
            providers.ForEach(p => p.Dispose());
        }
    }

    public static IEnumerable<(string Variant, double NanosecondsPerRequest)> RunTimed(int requests = 100_000, int rounds = 7)
    {
        var clients = Build(out var providers);
        try
        {
            var best = Enumerable.Repeat(double.MaxValue, Variants.Length).ToArray();
            for (var round = 0; round < rounds; round++)
            {
                for (var v = 0; v < Variants.Length; v++)
                {
                    var started = Stopwatch.GetTimestamp();
                    Send(clients[v], requests);
                    best[v] = Math.Min(best[v], Stopwatch.GetElapsedTime(started).TotalNanoseconds / requests);
                }
            }

            return Variants.Select((variant, v) => (variant.Name, best[v])).ToList();
        }
        finally
        {
            providers.ForEach(p => p.Dispose());
        }
    }

    /// <summary>Sends GETs through the whole chain for a while: something steady to attach a sampling profiler to.</summary>
    public static void HotLoop(TimeSpan duration)
    {
        var clients = Build(out var providers);
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < duration)
        {
            Send(clients[1], 10_000);
        }

        providers.ForEach(p => p.Dispose());
    }

    private static HttpClient[] Build(out List<ServiceProvider> providers)
    {
        providers = [];
        var clients = new HttpClient[Variants.Length];
        for (var v = 0; v < Variants.Length; v++)
        {
            var services = new ServiceCollection();
            var builder = services.AddHttpClient("c", c => c.BaseAddress = new Uri("http://127.0.0.1/"))
                .ConfigurePrimaryHttpMessageHandler(() => new InMemoryHandler(_ => HttpStatusCode.OK));
            if (Variants[v].Configure is { } configure)
            {
                builder.AddHttpResilience(configure);
            }

            var provider = services.BuildServiceProvider();
            providers.Add(provider);
            clients[v] = provider.GetRequiredService<IHttpClientFactory>().CreateClient("c");
            Send(clients[v], 5_000); // warm up (and let the tiered JIT finish)
        }

        return clients;
    }

    private static void Send(HttpClient client, int requests)
    {
        for (var i = 0; i < requests; i++)
        {
            client.GetAsync("x").GetAwaiter().GetResult().Dispose();
        }
    }
}
