using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;

namespace Http.Resilience.Benchmarks;

/// <summary>
/// Slow tails: Kestrel on 127.0.0.1 where 5 % of responses take 1 s and the rest about 5 ms, called by 16 loops, bare,
/// with our hedging (fixed and adaptive delay) and with Microsoft's standard hedging handler (its defaults, and the same
/// fixed delay as ours), in alternating rounds of the same run. Reports each client's p50, p99 and p99.9 and the extra
/// requests the server received per request offered.
/// </summary>
internal static class HedgingRun
{
    public const double SlowShare = 0.05;
    public static readonly TimeSpan Slow = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(5);
    public static readonly TimeSpan FixedDelay = TimeSpan.FromMilliseconds(10);

    public sealed record Result(string Name, int Offered, int Received, double P50Ms, double P99Ms, double P999Ms, double? DelayMs)
    {
        public double Extra => (Received - Offered) / (double)Offered;
    }

    public static async Task<List<Result>> RunAsync(int requestsPerRound, int rounds, int loops = 16)
    {
        var received = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.MapGet("/{client}", async (string client, HttpContext context) =>
        {
            received.AddOrUpdate(client, 1, static (_, n) => n + 1);
            try
            {
                await Task.Delay(Random.Shared.NextDouble() < SlowShare ? Slow : Fast, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return Results.Empty; // a hedge won: the client went away
            }

            return Results.Text("ok");
        });
        await app.StartAsync();
        var address = new Uri(app.Urls.First() + "/");

        var services = new ServiceCollection();
        HttpMessageHandler Primary() => new SocketsHttpHandler { MaxConnectionsPerServer = 256, UseProxy = false };
        IHttpClientBuilder Client(string name) => services.AddHttpClient(name, c => c.BaseAddress = address).ConfigurePrimaryHttpMessageHandler(Primary);
        Client("bare");
        Client("ours-fixed").AddHttpResilience(o =>
        {
            o.Hedging.Enabled = true;
            o.Hedging.Delay = FixedDelay;
        });
        Client("ours-adaptive").AddHttpResilience(o => o.Hedging.Enabled = true);
        Client("ms-hedging-defaults").AddStandardHedgingHandler();
        Client("ms-hedging-fixed").AddStandardHedgingHandler().Configure(o => o.Hedging.Delay = FixedDelay);
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        var names = new[] { "bare", "ours-fixed", "ours-adaptive", "ms-hedging-defaults", "ms-hedging-fixed" };

        foreach (var name in names)
        {
            // Warm-up, not counted: the JIT, the connection pools, and 300 latencies for the adaptive delay to start from.
            await RoundAsync(factory.CreateClient(name), name, 300, loops);
        }

        received.Clear();
        var latencies = names.ToDictionary(n => n, _ => new List<double>());
        for (var r = 0; r < rounds; r++)
        {
            foreach (var name in names)
            {
                var round = await RoundAsync(factory.CreateClient(name), name, requestsPerRound, loops);
                latencies[name].AddRange(round);
                Console.WriteLine($"  hedging round {r + 1}/{rounds} {name,-20} p50 {Percentile(round, 0.5),7:0.0} ms  p99 {Percentile(round, 0.99),7:0.0} ms");
            }
        }

        var delays = HedgeDelays();
        return names.Select(n =>
        {
            var sorted = latencies[n];
            sorted.Sort();
            return new Result(n, sorted.Count, received.GetValueOrDefault(n), Percentile(sorted, 0.5), Percentile(sorted, 0.99), Percentile(sorted, 0.999), delays.TryGetValue(n, out var d) ? d : null);
        }).ToList();
    }

    /// <summary>The markdown section for RESULTS.md.</summary>
    public static IEnumerable<string> Report(List<Result> results, int requestsPerRound, int rounds)
    {
        yield return string.Create(CultureInfo.InvariantCulture, $"Kestrel on 127.0.0.1: {SlowShare:P0} of responses take {Slow.TotalSeconds:0} s, the rest {Fast.TotalMilliseconds:0} ms. 16 loops, {rounds} alternating rounds of {requestsPerRound} requests per client. Fixed delay: {FixedDelay.TotalMilliseconds:0} ms. Microsoft: `AddStandardHedgingHandler()` (defaults: 2 s delay) and with `Hedging.Delay` = the same fixed delay.");
        yield return string.Empty;
        yield return "| client | p50 | p99 | p99.9 | p99 / p50 | extra requests (of offered) | hedging delay at the end |";
        yield return "|---|---|---|---|---|---|---|";
        foreach (var r in results)
        {
            var delay = r.DelayMs is { } d ? string.Create(CultureInfo.InvariantCulture, $"{d:0.0} ms") : r.Name.Contains("fixed", StringComparison.Ordinal) ? string.Create(CultureInfo.InvariantCulture, $"{FixedDelay.TotalMilliseconds:0} ms (fixed)") : r.Name == "bare" ? "none" : "2 s (default)";
            yield return string.Create(CultureInfo.InvariantCulture, $"| {r.Name} | {r.P50Ms:0.0} ms | {r.P99Ms:0.0} ms | {r.P999Ms:0.0} ms | {r.P99Ms / r.P50Ms:0.0} | {r.Extra:P1} ({r.Received - r.Offered} of {r.Offered}) | {delay} |");
        }

        var adaptive = results.Single(r => r.Name == "ours-adaptive");
        var msDefaults = results.Single(r => r.Name == "ms-hedging-defaults");
        var msFixed = results.Single(r => r.Name == "ms-hedging-fixed");

        // The sampling noise of an extra-request share: its binomial standard deviation, in percentage points.
        var noise = Math.Sqrt(adaptive.Extra * (1 - adaptive.Extra) / adaptive.Offered) * 100;
        yield return string.Empty;
        yield return string.Create(CultureInfo.InvariantCulture, $"Targets (ours-adaptive): p99 at most 3x p50: {adaptive.P99Ms / adaptive.P50Ms:0.0}x, {(adaptive.P99Ms <= 3 * adaptive.P50Ms ? "holds" : "missed")}. Extra requests at most 10 %: {adaptive.Extra:P1}, {(adaptive.Extra <= 0.10 ? "holds" : "missed")}.");
        yield return string.Create(CultureInfo.InvariantCulture, $"Against Microsoft's: p99 {adaptive.P99Ms:0.0} ms vs {msFixed.P99Ms:0.0} ms (same fixed delay) and {msDefaults.P99Ms:0.0} ms (defaults): {(adaptive.P99Ms <= Math.Min(msFixed.P99Ms, msDefaults.P99Ms) ? "no worse" : "worse")}. Extra requests {adaptive.Extra:P1} vs {msFixed.Extra:P1} at the same fixed delay ({(adaptive.Extra * 100 - msFixed.Extra * 100):+0.0;-0.0;0.0} points; sampling noise about {noise:0.0} points) and {msDefaults.Extra:P1} with its defaults, whose 2 s delay never hedges a 1 s tail.");
    }

    /// <summary>The hedging delay each of our clients ended on, in milliseconds, as the <c>http.resilience.hedge.delay</c> gauge shows it.</summary>
    private static Dictionary<string, double> HedgeDelays()
    {
        var delays = new Dictionary<string, double>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Http.Resilience" && instrument.Name == "http.resilience.hedge.delay")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, seconds, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "http.resilience.client.name" && tag.Value is string client)
                {
                    delays[client] = seconds * 1000;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return delays;
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(sorted.Length * p) - 1)];
    }

    private static async Task<List<double>> RoundAsync(HttpClient client, string path, int requests, int loops)
    {
        var left = requests;
        var perLoop = await Task.WhenAll(Enumerable.Range(0, loops).Select(async _ =>
        {
            var latencies = new List<double>();
            while (Interlocked.Decrement(ref left) >= 0)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync(path);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"hedging run: unexpected {(int)response.StatusCode}");
                }

                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            return latencies;
        }));
        return perLoop.SelectMany(l => l).ToList();
    }
}
