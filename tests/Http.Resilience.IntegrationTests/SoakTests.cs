using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Http.Resilience.IntegrationTests;

/// <summary>
/// A chaos server on 127.0.0.1 and N logical requests (20,000 in CI; HTTP_RESILIENCE_SOAK_REQUESTS for more) of GET,
/// keyed POST and unkeyed POST at high concurrency, through healthy, failing and recovering phases. Exact accounting.
/// </summary>
[Collection(HeavyCollection.Name)]
public class SoakTests(ITestOutputHelper output)
{
    private static readonly int Requests = int.TryParse(Environment.GetEnvironmentVariable("HTTP_RESILIENCE_SOAK_REQUESTS"), out var n) && n >= 3_000 ? n : 20_000;
    private const int Concurrency = 64;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(1);

    private enum Phase
    {
        Healthy,
        Failing,
        Recovering,
    }

    [Fact]
    public async Task Soak_EveryRequestEndsOnce_InTime_NoDuplicatePosts_BoundedConnections_CircuitFollowsTheFaults()
    {
        var phase = (int)Phase.Healthy;
        var healed = 0; // after the load: no faults at all
        var chaos = new Random(20261126);
        var unkeyedSeen = new ConcurrentDictionary<string, int>();
        var keyedBodies = new ConcurrentDictionary<string, ConcurrentDictionary<string, byte>>();
        await using var server = await LoopbackServer.StartAsync(async (ctx, _) =>
        {
            string? body = null;
            if (HttpMethods.IsPost(ctx.Request.Method))
            {
                using var reader = new StreamReader(ctx.Request.Body);
                body = await reader.ReadToEndAsync();
                var key = ctx.Request.Headers["Idempotency-Key"].ToString();
                if (key.Length == 0)
                {
                    unkeyedSeen.AddOrUpdate(body, 1, (_, count) => count + 1);
                }
                else
                {
                    keyedBodies.GetOrAdd(key, _ => new()).TryAdd(body, 0);
                }
            }

            double roll;
            lock (chaos)
            {
                roll = chaos.NextDouble();
            }

            if (Volatile.Read(ref healed) == 1)
            {
                await ctx.Response.WriteAsync("ok");
                return;
            }

            var failing = Volatile.Read(ref phase) == (int)Phase.Failing;
            switch (failing ? roll : roll * 20) // healthy: about 1 in 20 of the failing phase's fault rate
            {
                case < 0.30:
                    ctx.Response.StatusCode = 503;
                    return;
                case < 0.40:
                    ctx.Response.StatusCode = 429;
                    ctx.Response.Headers.RetryAfter = "0";
                    return;
                case < 0.55:
                    ctx.Abort(); // connection reset
                    return;
                case < 0.62:
                    await LoopbackServer.DelayAsync(ctx, TimeSpan.FromMilliseconds(400)); // past the attempt timeout
                    return;
                case < 0.66:
                    ctx.Response.ContentLength = 100; // truncated body: promise 100 bytes, send 10, reset
                    await ctx.Response.WriteAsync("0123456789");
                    await ctx.Response.Body.FlushAsync();
                    ctx.Abort();
                    return;
                default:
                    await ctx.Response.WriteAsync("ok");
                    return;
            }
        });

        var services = new ServiceCollection();
        void Configure(HttpResilienceOptions o)
        {
            o.Deadline = Deadline;
            o.AttemptTimeout = TimeSpan.FromMilliseconds(150);
            o.Retry.MaxRetries = 2;
            o.Retry.BaseDelay = TimeSpan.FromMilliseconds(1);
            o.Retry.MaxDelay = TimeSpan.FromMilliseconds(10);
            o.CircuitBreaker.MinimumThroughput = 50;
            o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(1);
            o.CircuitBreaker.BreakDuration = TimeSpan.FromMilliseconds(250);
            o.CircuitBreaker.MaxBreakDuration = o.CircuitBreaker.BreakDuration; // phases last about a second: the break must not grow past one
            o.Bulkhead.MaxConcurrency = Concurrency;
        }

        services.AddHttpClient("keyed", c => c.BaseAddress = server.BaseAddress)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency, UseProxy = false })
            .AddHttpResilience(Configure);
        services.AddHttpClient("unkeyed", c => c.BaseAddress = server.BaseAddress)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency, UseProxy = false })
            .AddHttpResilience(o =>
            {
                Configure(o);
                o.Idempotency.Enabled = false;
            });
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        var monitor = provider.GetRequiredService<IHttpResilienceMonitor>();
        var transitions = new ConcurrentQueue<(Phase Phase, string Client, CircuitState State)>();
        monitor.CircuitStateChanged += (_, e) => transitions.Enqueue(((Phase)Volatile.Read(ref phase), e.ClientName, e.State));

        using var connections = new OpenConnectionCounter();
        var unobserved = new ConcurrentQueue<string>();
        EventHandler<UnobservedTaskExceptionEventArgs> onUnobserved = (_, e) => unobserved.Enqueue(e.Exception.ToString());
        TaskScheduler.UnobservedTaskException += onUnobserved;
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);

        var outcomes = new ConcurrentDictionary<string, int>();
        var ended = new int[Requests];
        var late = 0;
        var watch = Stopwatch.StartNew();
        try
        {
            foreach (var current in new[] { Phase.Healthy, Phase.Failing, Phase.Recovering })
            {
                Volatile.Write(ref phase, (int)current);
                var from = (int)current * (Requests / 3);
                var to = current == Phase.Recovering ? Requests : from + (Requests / 3);
                var next = from - 1;
                await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async worker =>
                {
                    for (var i = Interlocked.Increment(ref next); i < to; i = Interlocked.Increment(ref next))
                    {
                        var started = Stopwatch.GetTimestamp();
                        var outcome = await SendOneAsync(factory, i);
                        if (Stopwatch.GetElapsedTime(started) > Deadline + TimeSpan.FromSeconds(2))
                        {
                            Interlocked.Increment(ref late);
                        }

                        Interlocked.Increment(ref ended[i]);
                        outcomes.AddOrUpdate(outcome, 1, (_, c) => c + 1);
                    }
                }));
            }
        }
        finally
        {
            watch.Stop();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            TaskScheduler.UnobservedTaskException -= onUnobserved;
        }

        // The load ends while the dependency still fails now and then, so a circuit may be between a failed probe and its
        // next one. Once the dependency is wholly healthy, each circuit must close at its next probe: send one per client,
        // after the break the monitor names, a bounded number of times.
        Volatile.Write(ref healed, 1);
        foreach (var name in new[] { "keyed", "unkeyed" })
        {
            var client = factory.CreateClient(name);
            for (var probe = 0; probe < 10 && monitor.GetCircuitBreakers().Single(c => c.ClientName == name).State != CircuitState.Closed; probe++)
            {
                if (monitor.GetCircuitBreakers().Single(c => c.ClientName == name).RetryAfter is { } breakLeft)
                {
                    await Task.Delay(breakLeft + TimeSpan.FromMilliseconds(10)); // real time: the break is on the system clock
                }

                try
                {
                    using var probeResponse = await client.GetAsync("/probe");
                }
                catch (HttpResilienceException)
                {
                    // still open (a probe already out); the loop looks again
                }
            }
        }

        var memoryAfter = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"{Requests} logical requests in {watch.Elapsed.TotalSeconds:0.0} s; outcomes: {string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}"))}");
        output.WriteLine($"server saw {server.Hits} attempts; peak open connections {connections.Peak}; memory {memoryBefore / 1024 / 1024} MB -> {memoryAfter / 1024 / 1024} MB");
        output.WriteLine($"circuit: {string.Join(", ", transitions.Select(t => $"{t.Client} {t.State} ({t.Phase})"))}");

        Assert.All(ended, count => Assert.Equal(1, count)); // every logical request ended exactly once
        Assert.Equal(0, late);
        Assert.DoesNotContain(outcomes.Keys, k => k.StartsWith("undocumented:", StringComparison.Ordinal));
        Assert.All(unkeyedSeen, seen => Assert.Equal(1, seen.Value)); // an unkeyed POST never reached the server twice
        Assert.All(keyedBodies, key => Assert.Single(key.Value)); // one key, one body
        Assert.True(connections.Peak <= 2 * Concurrency + 2, $"peak open connections {connections.Peak}");
        Assert.Equal(0, connections.Active);
        Assert.True(unobserved.IsEmpty, string.Join(Environment.NewLine, unobserved));
        Assert.True(memoryAfter < memoryBefore + (64 * 1024 * 1024), $"managed memory grew from {memoryBefore} to {memoryAfter}");
        Assert.Contains(transitions, t => t.Phase == Phase.Failing && t.State == CircuitState.Open);
        Assert.All(monitor.GetCircuitBreakers(), c => Assert.Equal(CircuitState.Closed, c.State)); // recovered
    }

    private static async Task<string> SendOneAsync(IHttpClientFactory factory, int i)
    {
        try
        {
            using var response = (i % 4) switch
            {
                0 => await factory.CreateClient("keyed").PostAsync("/charges", new StringContent($"keyed-{i}")),
                1 => await factory.CreateClient("unkeyed").PostAsync("/charges", new StringContent($"unkeyed-{i}")),
                _ => await factory.CreateClient("keyed").GetAsync("/items"),
            };
            return $"status {(int)response.StatusCode}";
        }
        catch (HttpRequestException ex)
        {
            // Every documented outcome without a response derives from HttpRequestException: the chain's own
            // (deadline, circuit, bulkhead, timeout) and the last attempt's network failure (or a truncated body).
            return ex.GetType().Name;
        }
        catch (Exception ex)
        {
            return $"undocumented: {ex.GetType().Name}: {ex.Message}";
        }
    }

    /// <summary>Follows System.Net.Http's open-connections instrument: current total, active, and peak.</summary>
    private sealed class OpenConnectionCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _total;
        private long _active;
        private long _peak;

        public OpenConnectionCounter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "System.Net.Http" && instrument.Name == "http.client.open_connections")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                var total = Interlocked.Add(ref _total, value);
                foreach (var tag in tags)
                {
                    if (tag.Key == "http.connection.state" && (string?)tag.Value == "active")
                    {
                        Interlocked.Add(ref _active, value);
                    }
                }

                long peak;
                while (total > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, total, peak) != peak)
                {
                }
            });
            _listener.Start();
        }

        public long Peak => Interlocked.Read(ref _peak);

        public long Active => Interlocked.Read(ref _active);

        public void Dispose() => _listener.Dispose();
    }
}
