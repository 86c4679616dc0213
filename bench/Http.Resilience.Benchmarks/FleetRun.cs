using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.Benchmarks;

/// <summary>
/// What a fleet limit costs a request: the same chain over an in-memory handler with no limit, with the local token
/// bucket, and with the fleet rate and concurrency limits on a real redis-server on 127.0.0.1 (a round trip each),
/// in alternating rounds. Reports p50 and p99 per request and what each adds over the chain without a limit.
/// </summary>
internal static class FleetRun
{
    public sealed record Result(string Name, double P50Us, double P99Us);

    public static async Task<List<Result>> RunAsync(int requestsPerRound, int rounds, int loops)
    {
        var binary = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("--fleet needs redis-server: install it with 'apt-get install -y redis-server'.");
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var info = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no" })
        {
            info.ArgumentList.Add(argument);
        }

        using var redis = Process.Start(info)!;
        redis.OutputDataReceived += (_, _) => { };
        redis.BeginOutputReadLine();
        try
        {
            var connection = $"127.0.0.1:{port},abortConnect=false";
            var services = new ServiceCollection();
            HttpMessageHandler Primary() => new InMemoryHandler(_ => HttpStatusCode.OK);
            IHttpClientBuilder Client(string name, Action<HttpResilienceOptions> configure)
                => services.AddHttpClient(name, c => c.BaseAddress = new Uri("http://127.0.0.1/")).ConfigurePrimaryHttpMessageHandler(Primary).AddHttpResilience(configure);
            Client("chain, no limit", _ => { });
            Client("local token bucket", o =>
            {
                o.RateLimit.Enabled = true;
                o.RateLimit.TokensPerPeriod = 1_000_000;
                o.RateLimit.TokenLimit = 1_000_000;
            });
            Client("fleet rate limit", _ => { }).AddFleetRateLimit(o =>
            {
                o.ConnectionString = connection;
                o.Key = "bench:rate";
                o.PermitsPerSecond = 1_000_000;
                o.Burst = 1_000_000;
            });
            Client("fleet concurrency limit", _ => { }).AddFleetConcurrencyLimit(o =>
            {
                o.ConnectionString = connection;
                o.Key = "bench:concurrency";
                o.MaxConcurrency = 1000;
            });
            await using var provider = services.BuildServiceProvider();
            var factory = provider.GetRequiredService<IHttpClientFactory>();
            var names = new[] { "chain, no limit", "local token bucket", "fleet rate limit", "fleet concurrency limit" };
            foreach (var name in names)
            {
                await RoundAsync(factory.CreateClient(name), 500, loops); // warm-up: JIT, the connection, the scripts' cache
            }

            var latencies = names.ToDictionary(n => n, _ => new List<double>());
            for (var r = 0; r < rounds; r++)
            {
                foreach (var name in names)
                {
                    latencies[name].AddRange(await RoundAsync(factory.CreateClient(name), requestsPerRound, loops));
                }
            }

            return names.Select(n =>
            {
                var sorted = latencies[n].Order().ToArray();
                return new Result(n, sorted[sorted.Length / 2], sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.99))]);
            }).ToList();
        }
        finally
        {
            redis.Kill();
        }
    }

    public static IEnumerable<string> Report(List<Result> results, int requestsPerRound, int rounds, int loops)
    {
        yield return string.Create(CultureInfo.InvariantCulture, $"In-memory primary handler; redis-server on 127.0.0.1; {loops} concurrent callers; {rounds} alternating rounds of {requestsPerRound} requests per client; limits set far above the load, so every request is admitted and what is measured is the cost of asking.");
        yield return string.Empty;
        yield return "| client | p50 | p99 | p50 added over the chain without a limit |";
        yield return "|---|---|---|---|";
        var baseline = results[0];
        foreach (var r in results)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"| {r.Name} | {r.P50Us:0} us | {r.P99Us:0} us | {(r == baseline ? "" : $"+{r.P50Us - baseline.P50Us:0} us")} |");
        }
    }

    private static async Task<List<double>> RoundAsync(HttpClient client, int requests, int loops)
    {
        var left = requests;
        var perLoop = await Task.WhenAll(Enumerable.Range(0, loops).Select(async _ =>
        {
            var latencies = new List<double>();
            while (Interlocked.Decrement(ref left) >= 0)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync("x");
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            }

            return latencies;
        }));
        return perLoop.SelectMany(l => l).ToList();
    }
}
