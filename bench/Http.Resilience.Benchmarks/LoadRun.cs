using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Http.Resilience.Benchmarks;

/// <summary>
/// Kestrel on 127.0.0.1 and 32 concurrent loops for a fixed time per round, bare vs ours vs the Microsoft standard
/// handler, rounds alternating A B C A B C so drift hits all alike. Requests/s, p50/p99 and allocated bytes per request
/// (client and in-process server together, the same for every contender).
/// </summary>
internal static class LoadRun
{
    public sealed record Result(string Name, double RequestsPerSecond, double P50Ms, double P99Ms, double BytesPerRequest);

    public static async Task<List<Result>> RunAsync(TimeSpan round, int rounds, int loops = 32)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.MapGet("/", () => Results.Text("ok"));
        await app.StartAsync();
        var address = new Uri(app.Urls.First() + "/");

        var services = new ServiceCollection();
        HttpMessageHandler Primary() => new SocketsHttpHandler { MaxConnectionsPerServer = 256, UseProxy = false };
        services.AddHttpClient("bare", c => c.BaseAddress = address).ConfigurePrimaryHttpMessageHandler(Primary);
        services.AddHttpClient("ours", c => c.BaseAddress = address).ConfigurePrimaryHttpMessageHandler(Primary).AddHttpResilience();
        services.AddHttpClient("ms-standard", c => c.BaseAddress = address).ConfigurePrimaryHttpMessageHandler(Primary).AddStandardResilienceHandler();
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        var names = new[] { "bare", "ours", "ms-standard" };
        var totals = names.ToDictionary(n => n, _ => (Requests: 0L, Seconds: 0.0, Bytes: 0L, Latencies: new List<double>()));

        foreach (var name in names)
        {
            // Warm-up, not counted: a whole round each, so the tiered JIT has finished with the client and the server
            // before anything is measured (half a second left the first measured round of "bare" at half speed).
            await RoundAsync(factory.CreateClient(name), round, loops);
        }

        for (var r = 0; r < rounds; r++)
        {
            foreach (var name in names)
            {
                var client = factory.CreateClient(name);
                var bytesBefore = GC.GetTotalAllocatedBytes(precise: true);
                var (count, elapsed, latencies) = await RoundAsync(client, round, loops);
                var bytes = GC.GetTotalAllocatedBytes(precise: true) - bytesBefore;
                var total = totals[name];
                total.Latencies.AddRange(latencies);
                totals[name] = (total.Requests + count, total.Seconds + elapsed.TotalSeconds, total.Bytes + bytes, total.Latencies);
                Console.WriteLine($"  load round {r + 1}/{rounds} {name,-12} {count / elapsed.TotalSeconds,9:0} req/s");
            }
        }

        return names.Select(n =>
        {
            var t = totals[n];
            var sorted = t.Latencies.Order().ToArray();
            return new Result(n, t.Requests / t.Seconds, sorted[(int)(sorted.Length * 0.5)], sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.99))], (double)t.Bytes / t.Requests);
        }).ToList();
    }

    private static async Task<(long Count, TimeSpan Elapsed, List<double> Latencies)> RoundAsync(HttpClient client, TimeSpan duration, int loops)
    {
        var stop = Stopwatch.StartNew();
        var perLoop = await Task.WhenAll(Enumerable.Range(0, loops).Select(async _ =>
        {
            var latencies = new List<double>(4096);
            while (stop.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync(string.Empty);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"load run: unexpected {(int)response.StatusCode}");
                }

                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            return latencies;
        }));
        var elapsed = stop.Elapsed;
        var all = perLoop.SelectMany(l => l).ToList();
        return (all.Count, elapsed, all);
    }
}
