using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Http.Resilience;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OutageDemo;

/// <summary>
/// The retry storm of the article "Failure Is Not an Option": an SMS API goes down while 500 messages are queued, and the
/// retries keep it down after it is back. Replayed on 127.0.0.1 three times: retries in lockstep (the story), Microsoft's
/// standard resilience handler, and this chain's defaults; with both, the app re-sends a failed message about 2 s later.
/// </summary>
/// <remarks>
/// The API has a capacity (400 requests a second of work) shared by everything in flight (processor sharing: with n in
/// flight, each progresses at 1/n of the speed), and gives up on a request it could not finish within 500 ms (the work is
/// wasted). So a burst of a few hundred requests makes every one of them too slow, none completes, and a storm that keeps
/// arriving keeps the API down although nothing is wrong with it any more. New messages arrive at 50 a second throughout.
/// No client can drain the backlog faster than the physical limit: the messages waiting when the API comes back (the
/// backlog and what arrived during the outage) over the capacity left after the new arrivals.
/// </remarks>
internal static class Storm
{
    private const int Backlog = 500;
    private const int ArrivalsPerSecond = 50;
    private const double CapacityPerSecond = 400;
    private static readonly TimeSpan GiveUp = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Healthy = TimeSpan.FromSeconds(2);

    /// <summary>How long after the API is back new messages are followed (their wait is measured), at least.</summary>
    private static readonly TimeSpan Observe = TimeSpan.FromSeconds(10);

    /// <summary>The three ways, by the names <c>--mode</c> takes.</summary>
    public static readonly IReadOnlyDictionary<string, string> Modes = new Dictionary<string, string>
    {
        ["lockstep"] = "lockstep retries",
        ["microsoft"] = "Microsoft standard",
        ["http-resilience"] = "Http.Resilience",
    };

    /// <param name="outage">How long the API is down.</param>
    /// <param name="maxDrain">How long after the API is back a run ends at the latest.</param>
    /// <param name="chart">Whether to write storm.png.</param>
    /// <param name="modes">The ways to run (keys of <see cref="Modes"/>), in order.</param>
    public static async Task<int> RunAsync(TimeSpan outage, TimeSpan maxDrain, bool chart, IReadOnlyList<string> modes)
    {
        var limit = TimeSpan.FromSeconds((Backlog + (ArrivalsPerSecond * outage.TotalSeconds)) / (CapacityPerSecond - ArrivalsPerSecond));
        Console.WriteLine($"Retry storm: an API of {CapacityPerSecond:0} requests/s capacity is down for {outage.TotalSeconds:0} s with {Backlog} messages queued, " +
                          $"{ArrivalsPerSecond} new ones a second; each run ends when the backlog is drained (and new messages were followed for " +
                          $"{Shorter(Observe, maxDrain).TotalSeconds:0} s), or {maxDrain.TotalSeconds:0} s after the API is back.");
        Console.WriteLine($"Physical limit: no client drains the backlog in less than {limit.TotalSeconds:0.0} s after the API is back " +
                          $"(({Backlog} + {ArrivalsPerSecond} x {outage.TotalSeconds:0}) messages / ({CapacityPerSecond:0} - {ArrivalsPerSecond}) per second).");
        var results = new List<StormResult>();
        foreach (var mode in modes)
        {
            results.Add(await RunOnceAsync(Modes[mode], outage, maxDrain));
        }

        Console.WriteLine();
        Console.WriteLine($"  {"",-50}{string.Concat(results.Select(r => $" {r.Mode,20}"))}");
        void Row(string label, Func<StormResult, string> value) => Console.WriteLine($"  {label,-50}{string.Concat(results.Select(r => $" {value(r),20}"))}");
        Row("API requests/s during the outage", r => r.DuringOutagePerSecond.ToString("0", CultureInfo.InvariantCulture));
        Row("API requests/s after it is back, until drained", r => r.AfterPerSecond.ToString("0", CultureInfo.InvariantCulture));
        Row($"backlog drained after the API is back (limit {limit.TotalSeconds:0.0} s)", r => r.Drain is { } d ? $"{d.TotalSeconds:0.0} s" : $"not in {maxDrain.TotalSeconds:0} s");
        Row("new messages' wait, median", r => Wait(r.NewWaits, 0.5));
        Row("new messages' wait, p99", r => Wait(r.NewWaits, 0.99));
        Row("API requests per delivered message", r => r.RequestsPerDelivered.ToString("0.00", CultureInfo.InvariantCulture));
        Row("requests the API worked on, then gave up", r => r.Wasted.ToString(CultureInfo.InvariantCulture));
        Row("messages delivered", r => r.Delivered.ToString(CultureInfo.InvariantCulture));
        if (chart)
        {
            var path = Path.GetFullPath("storm.png");
            PngChart.WriteStorm(path, results.Select(r => (r.Mode, r.PerSecond)).ToList(), Healthy.TotalSeconds, (Healthy + outage).TotalSeconds);
            Console.WriteLine($"Chart written to {path}");
        }

        return 0;
    }

    private static TimeSpan Shorter(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>A percentile of the waits; a message never delivered waits forever, and says so.</summary>
    private static string Wait(double[] waits, double percentile)
    {
        if (waits.Length == 0)
        {
            return "-";
        }

        var value = waits[Math.Min(waits.Length - 1, (int)Math.Ceiling(percentile * waits.Length) - 1)];
        return double.IsPositiveInfinity(value) ? "not delivered" : $"{value:0.00} s";
    }

    private static async Task<StormResult> RunOnceAsync(string mode, TimeSpan outage, TimeSpan maxDrain)
    {
        var api = new StormApi(outage);
        await using var app = await api.StartAsync();
        var services = new ServiceCollection();
        var client = services.AddHttpClient("sms", c =>
        {
            c.BaseAddress = new Uri(app.Urls.First() + "/");
            c.Timeout = TimeSpan.FromSeconds(10);
        });
        if (mode == "Http.Resilience")
        {
            client.AddHttpResilience(); // the defaults, nothing tuned
        }
        else if (mode == "Microsoft standard")
        {
            client.AddStandardResilienceHandler(); // the defaults, nothing tuned
        }

        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("sms");
        var circuit = new ConcurrentQueue<string>();
        var runClock = Stopwatch.StartNew();
        if (mode == "Http.Resilience")
        {
            provider.GetRequiredService<IHttpResilienceMonitor>().CircuitStateChanged += (_, e) =>
                circuit.Enqueue($"{runClock.Elapsed.TotalSeconds:0.0} s {e.State}{(e.BreakDuration is { } b ? $" for {b.TotalSeconds:0.0} s" : string.Empty)}");
        }

        var pending = new ConcurrentDictionary<int, Task>();
        var arrived = new ConcurrentDictionary<int, TimeSpan>();
        var deliveredAt = new ConcurrentDictionary<int, TimeSpan>();
        var next = 0;
        var delivered = 0;
        var clock = Stopwatch.StartNew();
        var recovered = Healthy + outage;
        var end = recovered + maxDrain;
        var observeUntil = recovered + Shorter(Observe, maxDrain);
        var backlogLeft = -1; // messages that arrived before the API was back and are not delivered yet, once counted
        TimeSpan? drained = null;
        var backlogQueued = false;
        Console.Write($"  [{mode}] ");

        void Start(int id)
        {
            arrived[id] = clock.Elapsed;
            pending[id] = Task.Run(async () =>
            {
                for (var attempt = 0; clock.Elapsed < end; attempt++)
                {
                    try
                    {
                        using var response = await http.PostAsync("send", new StringContent($"message {id}"));
                        if (response.IsSuccessStatusCode)
                        {
                            deliveredAt[id] = clock.Elapsed;
                            Interlocked.Increment(ref delivered);
                            break;
                        }
                    }
                    catch (HttpRequestException)
                    {
                    }
                    catch (TaskCanceledException)
                    {
                    }
                    catch (Polly.ExecutionRejectedException) // Microsoft's handler: its circuit, timeout or limiter turned the request away
                    {
                    }

                    await Task.Delay(mode == "lockstep retries"
                        ? TimeSpan.FromSeconds(2) // the story: every message retries on the same tick
                        : TimeSpan.FromSeconds(2 + (Random.Shared.NextDouble() * 0.5))); // the app re-sends a failed message ~2 s later
                }

                pending.TryRemove(id, out _);
            });
        }

        while (clock.Elapsed < end)
        {
            var now = clock.Elapsed;
            if (now >= Healthy && !backlogQueued)
            {
                backlogQueued = true; // the messages queued when the API goes down all go at once
                for (var i = 0; i < Backlog; i++)
                {
                    Start(next++);
                }
            }

            var due = (int)(now.TotalSeconds * ArrivalsPerSecond) + (backlogQueued ? Backlog : 0);
            while (next < due)
            {
                Start(next++);
            }

            if (now >= recovered)
            {
                if (backlogLeft < 0)
                {
                    backlogLeft = next; // every message so far arrived before the API was back
                }

                if (drained is null && Enumerable.Range(0, backlogLeft).All(deliveredAt.ContainsKey))
                {
                    drained = now - recovered;
                }

                if (drained is not null && now >= observeUntil)
                {
                    break;
                }
            }

            await Task.Delay(20);
        }

        var stopped = clock.Elapsed;
        await Task.WhenAll(pending.Values);
        Console.WriteLine(drained is { } d ? $"drained {d.TotalSeconds:0.0} s after the API was back" : "not drained");
        if (!circuit.IsEmpty)
        {
            Console.WriteLine($"    circuit (the API is down from {Healthy.TotalSeconds:0.0} s to {recovered.TotalSeconds:0.0} s): {string.Join(", ", circuit)}");
        }

        var newWaits = arrived.Where(a => a.Value >= recovered && a.Value < stopped)
            .Select(a => deliveredAt.TryGetValue(a.Key, out var at) ? (at - a.Value).TotalSeconds : double.PositiveInfinity)
            .Order()
            .ToArray();
        var span = drained ?? maxDrain;
        return new StormResult(
            mode,
            api.ReceivedBetween(Healthy, recovered) / outage.TotalSeconds,
            api.ReceivedBetween(recovered, recovered + span) / span.TotalSeconds,
            drained,
            newWaits,
            delivered == 0 ? double.NaN : api.Received / (double)delivered,
            api.Wasted,
            delivered,
            api.PerSecond());
    }

    private sealed record StormResult(
        string Mode, double DuringOutagePerSecond, double AfterPerSecond, TimeSpan? Drain, double[] NewWaits, double RequestsPerDelivered, long Wasted, int Delivered, int[] PerSecond);

    /// <summary>The capacity-limited API: processor sharing over everything in flight, a server-side give-up, an outage.</summary>
    private sealed class StormApi(TimeSpan outage)
    {
        private readonly Stopwatch _clock = new();
        private readonly ConcurrentQueue<TimeSpan> _arrivals = new();
        private int _inFlight;
        private long _wasted;

        public long Received => _arrivals.Count;

        public long Wasted => Interlocked.Read(ref _wasted);

        public long ReceivedBetween(TimeSpan from, TimeSpan until) => _arrivals.Count(a => a >= from && a < until);

        public int[] PerSecond()
        {
            var perSecond = new int[(int)_arrivals.DefaultIfEmpty().Max().TotalSeconds + 1];
            foreach (var arrival in _arrivals)
            {
                perSecond[(int)arrival.TotalSeconds]++;
            }

            return perSecond;
        }

        public async Task<WebApplication> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.MapPost("/send", (HttpRequest request) => HandleAsync(request.HttpContext));
            await app.StartAsync();
            _clock.Start();
            return app;
        }

        private async Task<IResult> HandleAsync(HttpContext context)
        {
            var now = _clock.Elapsed;
            _arrivals.Enqueue(now);
            if (now >= Healthy && now < Healthy + outage)
            {
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable); // down
            }

            Interlocked.Increment(ref _inFlight);
            try
            {
                // Processor sharing in 5 ms steps: each step, a request gets its share of the capacity.
                var work = 1 / CapacityPerSecond;
                var started = _clock.Elapsed;
                while (work > 0)
                {
                    if (_clock.Elapsed - started > GiveUp)
                    {
                        Interlocked.Increment(ref _wasted);
                        return Results.StatusCode(StatusCodes.Status503ServiceUnavailable); // too slow: the work so far is wasted
                    }

                    var before = _clock.Elapsed;
                    await Task.Delay(5, context.RequestAborted);
                    work -= (_clock.Elapsed - before).TotalSeconds / Math.Max(1, Volatile.Read(ref _inFlight));
                }

                return Results.Ok();
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref _wasted); // the caller left; the API does not notice until now
                return Results.StatusCode(499);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }
}
