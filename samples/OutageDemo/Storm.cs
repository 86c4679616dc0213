using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OutageDemo;

/// <summary>
/// The retry storm of the article "Failure Is Not an Option": an SMS API goes down while 500 messages are queued, and the
/// retries keep it down after it is back. Replayed on 127.0.0.1 three times: retries in lockstep (the story), jittered
/// exponential retries (what the peer libraries give), and this chain's defaults.
/// </summary>
/// <remarks>
/// The API has a capacity (400 requests a second of work) shared by everything in flight (processor sharing: with n in
/// flight, each progresses at 1/n of the speed), and gives up on a request it could not finish within 500 ms (the work is
/// wasted). So a burst of a few hundred requests makes every one of them too slow, none completes, and a storm that keeps
/// arriving keeps the API down although nothing is wrong with it any more. New messages arrive at 50 a second throughout.
/// </remarks>
internal static class Storm
{
    private const int Backlog = 500;
    private const int ArrivalsPerSecond = 50;
    private const double CapacityPerSecond = 400;
    private static readonly TimeSpan GiveUp = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Healthy = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(TimeSpan outage, TimeSpan maxDrain, bool chart)
    {
        Console.WriteLine($"Retry storm: an API of {CapacityPerSecond:0} requests/s capacity is down for {outage.TotalSeconds:0} s with {Backlog} messages queued, " +
                          $"{ArrivalsPerSecond} new ones a second; each run ends when the backlog is drained, or {maxDrain.TotalSeconds:0} s after the API is back.");
        var results = new List<StormResult>();
        foreach (var mode in new[] { "lockstep retries", "jittered retries", "Http.Resilience" })
        {
            results.Add(await RunOnceAsync(mode, outage, maxDrain));
        }

        Console.WriteLine();
        Console.WriteLine($"  {"",-44} {results[0].Mode,18} {results[1].Mode,18} {results[2].Mode,18}");
        void Row(string label, Func<StormResult, string> value) => Console.WriteLine($"  {label,-44} {value(results[0]),18} {value(results[1]),18} {value(results[2]),18}");
        Row("API requests/s during the outage", r => r.DuringOutagePerSecond.ToString("0", CultureInfo.InvariantCulture));
        Row("API requests/s after it is back, until drained", r => r.AfterPerSecond.ToString("0", CultureInfo.InvariantCulture));
        Row("backlog drained after the API is back", r => r.Drain is { } d ? $"{d.TotalSeconds:0.0} s" : $"not in {maxDrain.TotalSeconds:0} s");
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

        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("sms");
        var pending = new ConcurrentDictionary<int, Task>();
        var next = 0;
        var delivered = 0;
        var clock = Stopwatch.StartNew();
        var recovered = Healthy + outage;
        TimeSpan? drained = null;
        var backlogQueued = false;
        Console.Write($"  [{mode}] ");

        void Start(int id) => pending[id] = Task.Run(async () =>
        {
            for (var attempt = 0; clock.Elapsed < recovered + maxDrain; attempt++)
            {
                try
                {
                    using var response = await http.PostAsync("send", new StringContent($"message {id}"));
                    if (response.IsSuccessStatusCode)
                    {
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

                await Task.Delay(mode switch
                {
                    "lockstep retries" => TimeSpan.FromSeconds(2), // the story: every message retries on the same tick
                    "jittered retries" => TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Math.Min(10_000, 500 * Math.Pow(2, attempt))),
                    _ => TimeSpan.FromSeconds(2 + (Random.Shared.NextDouble() * 0.5)), // the app re-sends a failed message ~2 s later
                });
            }

            pending.TryRemove(id, out _);
        });

        while (clock.Elapsed < recovered + maxDrain)
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

            if (now > recovered && pending.IsEmpty)
            {
                drained = now - recovered;
                break;
            }

            await Task.Delay(20);
        }

        await Task.WhenAll(pending.Values);
        Console.WriteLine(drained is { } d ? $"drained {d.TotalSeconds:0.0} s after the API was back" : "not drained");
        return new StormResult(
            mode,
            api.ReceivedBetween(Healthy, recovered) / outage.TotalSeconds,
            api.ReceivedBetween(recovered, recovered + (drained ?? maxDrain)) / (drained ?? maxDrain).TotalSeconds,
            drained,
            delivered == 0 ? double.NaN : api.Received / (double)delivered,
            api.Wasted,
            delivered,
            api.PerSecond());
    }

    private sealed record StormResult(string Mode, double DuringOutagePerSecond, double AfterPerSecond, TimeSpan? Drain, double RequestsPerDelivered, long Wasted, int Delivered, int[] PerSecond);

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
