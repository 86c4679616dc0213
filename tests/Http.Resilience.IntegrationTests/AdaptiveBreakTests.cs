using System.Net;
using System.Threading.Channels;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Http.Resilience.IntegrationTests;

/// <summary>
/// The adaptive break and the ramp over real HTTP, at their defaults: breaks are driven by a fake clock (never slept
/// through), the requests go to Kestrel on 127.0.0.1, and the jitter is the real one, so each rule is checked at the
/// bounds of its jittered range.
/// </summary>
public class AdaptiveBreakTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    /// <summary>A dependency that answers with whatever status it is told to, and counts what reaches it.</summary>
    private sealed class Dependency
    {
        private int _status = StatusCodes.Status503ServiceUnavailable;

        public int Status
        {
            set => Volatile.Write(ref _status, value);
        }

        public string? RetryAfter { get; set; }

        public Task HandleAsync(HttpContext context)
        {
            context.Response.StatusCode = Volatile.Read(ref _status);
            if (RetryAfter is { } wait && context.Response.StatusCode == StatusCodes.Status503ServiceUnavailable)
            {
                context.Response.Headers.RetryAfter = wait;
            }

            return Task.CompletedTask;
        }
    }

    private static async Task<(LoopbackServer Server, Clients Clients, HttpClient Client, FakeTimeProvider Time, Dependency Dependency)> StartAsync()
    {
        var dependency = new Dependency();
        var server = await LoopbackServer.StartAsync((context, _) => dependency.HandleAsync(context));
        var time = new FakeTimeProvider();
        var clients = new Clients(server.BaseAddress, o => o.Retry.Enabled = false, timeProvider: time); // the circuit's defaults
        return (server, clients, clients.Create(), time, dependency);
    }

    private static async Task OpenAsync(HttpClient client, LoopbackServer server)
    {
        for (var i = 0; i < HttpResilienceDefaultsMinimumThroughput; i++)
        {
            using var failed = await client.GetAsync("/");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        }

        await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync("/"));
        Assert.Equal(HttpResilienceDefaultsMinimumThroughput, server.Hits);
    }

    private const int HttpResilienceDefaultsMinimumThroughput = 10;

    /// <summary>Rejected, unsent, until just before <paramref name="earliest"/>; the probe reaches the server by <paramref name="latest"/>.</summary>
    private static async Task ProbeWithinAsync(HttpClient client, LoopbackServer server, FakeTimeProvider time, TimeSpan earliest, TimeSpan latest, HttpStatusCode expected)
    {
        var hits = server.Hits;
        time.Advance(earliest - Tick);
        var ex = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync("/"));
        Assert.InRange(ex.RetryAfter!.Value, Tick, latest - earliest + Tick);
        Assert.Equal(hits, server.Hits);

        time.Advance(latest - earliest + Tick);
        using var probe = await client.GetAsync("/");
        Assert.Equal(expected, probe.StatusCode);
        Assert.Equal(hits + 1, server.Hits);
    }

    [Fact]
    public async Task Defaults_ProbeAfterTheJitteredFirstBreak_DoubleAfterAFailedProbe_ResetAfterAGoodOne()
    {
        var (server, clients, client, time, dependency) = await StartAsync();
        await using (server)
        using (clients)
        {
            await OpenAsync(client, server);

            // The first break: 3 s, equal-jittered, so between 1.5 and 3 s.
            await ProbeWithinAsync(client, server, time, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(3), HttpStatusCode.ServiceUnavailable);

            // The probe failed: the next break is doubled, between 3 and 6 s.
            await ProbeWithinAsync(client, server, time, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(6), HttpStatusCode.ServiceUnavailable);

            // Failed again: between 6 and 12 s. This probe succeeds and closes the circuit.
            dependency.Status = StatusCodes.Status200OK;
            await ProbeWithinAsync(client, server, time, TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(12), HttpStatusCode.OK);
            time.Advance(TimeSpan.FromSeconds(10)); // past the ramp
            using (var ok = await client.GetAsync("/"))
            {
                Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            }

            // Broken again, in a fresh window: the break starts again from the first.
            dependency.Status = StatusCodes.Status503ServiceUnavailable;
            time.Advance(TimeSpan.FromSeconds(31)); // the success above leaves the window
            var before = server.Hits;
            for (var i = 0; i < HttpResilienceDefaultsMinimumThroughput; i++)
            {
                using var failed = await client.GetAsync("/");
            }

            Assert.Equal(before + HttpResilienceDefaultsMinimumThroughput, server.Hits);
            await ProbeWithinAsync(client, server, time, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(3), HttpStatusCode.ServiceUnavailable);
        }
    }

    [Fact]
    public async Task RetryAfterOnThe503ThatOpens_SetsTheBreak()
    {
        var (server, clients, client, time, dependency) = await StartAsync();
        await using (server)
        using (clients)
        {
            dependency.RetryAfter = "20";
            await OpenAsync(client, server);

            // Not before the 20 s the server named (the doubling alone would have probed within 3 s), and spread over
            // up to half as long again.
            await ProbeWithinAsync(client, server, time, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30), HttpStatusCode.ServiceUnavailable);
        }
    }

    [Fact]
    public async Task Ramp_AfterTheClose_NeverLetsMoreThanItsLimitInFlight()
    {
        const int Limit = 20; // the ramp starts at 2 and reaches 20 over the 5 s default
        var inFlight = 0;
        var peak = 0;
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var failing = 1;
        var arrivals = Channel.CreateUnbounded<int>(); // one item per request counted in flight

        // Waits until the server holds n requests, woken by each one it counts (a hit is signalled before it is counted).
        async Task UntilInFlightAsync(int n)
        {
            using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(15)); // real time: a broken ramp fails, not hangs
            while (Volatile.Read(ref inFlight) < n)
            {
                await arrivals.Reader.ReadAsync(guard.Token);
            }
        }

        await using var server = await LoopbackServer.StartAsync(async (context, _) =>
        {
            if (Volatile.Read(ref failing) == 1)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            var release = Volatile.Read(ref hold).Task; // read before it is counted: once counted, the test may replace it
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref peak, now);
            arrivals.Writer.TryWrite(now);
            try
            {
                await release;
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
            }
        });
        var time = new FakeTimeProvider();
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Retry.Enabled = false;
            o.Bulkhead.MaxConcurrency = Limit;
            o.AttemptTimeout = TimeSpan.FromMinutes(1); // the held requests must outlive the ramp on the fake clock
            o.Deadline = TimeSpan.FromMinutes(2);
        }, timeProvider: time);
        var client = clients.Create();
        await OpenAsync(client, server);
        Volatile.Write(ref failing, 0);
        time.Advance(TimeSpan.FromSeconds(3));
        var probe = client.GetAsync("/");
        await UntilInFlightAsync(1);
        hold.SetResult(); // the probe answers and closes the circuit; from now on requests are held again
        using (var closed = await probe)
        {
            Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        }

        Volatile.Write(ref hold, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var requests = Enumerable.Range(0, Limit).Select(_ => client.GetAsync("/")).ToList();
        await UntilInFlightAsync(2);
        Assert.Equal(2, Volatile.Read(ref peak)); // a tenth of 20: the other 18 wait, unsent and not rejected
        Assert.DoesNotContain(requests, r => r.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(2.5)); // halfway: 2 + 18 / 2 = 11
        await UntilInFlightAsync(11);
        Assert.Equal(11, Volatile.Read(ref peak));

        time.Advance(TimeSpan.FromSeconds(2.5)); // the end of the ramp: everyone
        await UntilInFlightAsync(Limit);
        Assert.Equal(Limit, Volatile.Read(ref peak));
        hold.SetResult();
        foreach (var request in requests)
        {
            using var response = await request;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(Limit, Volatile.Read(ref peak));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) is var seen && seen != current)
        {
            current = seen;
        }
    }
}
