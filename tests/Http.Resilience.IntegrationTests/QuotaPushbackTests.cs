using System.Diagnostics;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;
using Xunit.Abstractions;

namespace Http.Resilience.IntegrationTests;

/// <summary>
/// A server-side rate limiter that names a wait for every request it turns away (nginx's <c>limit_req</c> with
/// <c>rate=100r/s burst=20 nodelay</c> and <c>Retry-After: 1</c> on its 429s), asked for four times its quota. Waiting
/// out every named wait fills the client with sleeping requests and leaves part of the quota unused; the defaults must
/// use all of it without sending much more than it admits.
/// </summary>
[Collection(HeavyCollection.Name)]
public class QuotaPushbackTests(ITestOutputHelper output)
{
    private const double Rate = 100; // requests a second the server admits
    private const double Burst = 20;
    private const int Offered = 400; // requests a second the app asks for
    private static readonly TimeSpan Run = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(1); // not measured: the client learns the quota

    /// <summary>nginx's <c>limit_req</c>: a token bucket of <see cref="Burst"/> refilled at <see cref="Rate"/>; a 429 with <c>Retry-After: 1</c> beyond it.</summary>
    private sealed class LimitReq
    {
        private readonly Lock _lock = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly List<(TimeSpan At, bool Accepted)> _seen = [];
        private double _tokens = Burst;
        private TimeSpan _last;

        public Task HandleAsync(HttpContext context)
        {
            bool accepted;
            lock (_lock)
            {
                var now = _clock.Elapsed;
                _tokens = Math.Min(Burst, _tokens + ((now - _last).TotalSeconds * Rate));
                _last = now;
                accepted = _tokens >= 1;
                if (accepted)
                {
                    _tokens--;
                }

                _seen.Add((now, accepted));
            }

            if (!accepted)
            {
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = "1";
            }

            return Task.CompletedTask;
        }

        public TimeSpan Now => _clock.Elapsed;

        /// <summary>Accepted requests a second, and requests per accepted one, between two instants of the server's clock.</summary>
        public (double AcceptedPerSecond, double RequestsPerAccepted) Measure(TimeSpan from, TimeSpan until)
        {
            lock (_lock)
            {
                var window = _seen.Where(s => s.At >= from && s.At < until).ToList();
                var accepted = window.Count(s => s.Accepted);
                return (accepted / (until - from).TotalSeconds, accepted == 0 ? double.PositiveInfinity : window.Count / (double)accepted);
            }
        }
    }

    /// <summary>Asks for <see cref="Offered"/> GETs a second for <see cref="Run"/>, paced by the wall clock; every request ends before it returns.</summary>
    private static async Task OfferAsync(HttpClient client)
    {
        var sent = 0;
        var requests = new List<Task>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Run)
        {
            var due = (int)(clock.Elapsed.TotalSeconds * Offered);
            for (; sent < due; sent++)
            {
                requests.Add(SendAsync(client));
            }

            await Task.Delay(5);
        }

        await Task.WhenAll(requests);

        static async Task SendAsync(HttpClient client)
        {
            try
            {
                using var response = await client.GetAsync("/quota");
            }
            catch (HttpRequestException)
            {
                // turned away locally (the pushback share or the bulkhead): the app would try later
            }
        }
    }

    [Fact]
    public async Task Defaults_FourTimesTheQuota_UseAllOfItAtMostTwoRequestsPerAccepted()
    {
        var limiter = new LimitReq();
        await using var server = await LoopbackServer.StartAsync((context, _) => limiter.HandleAsync(context));
        using var clients = new Clients(server.BaseAddress, _ => { }); // the defaults

        var started = limiter.Now;
        await OfferAsync(clients.Create());
        var (acceptedPerSecond, requestsPerAccepted) = limiter.Measure(started + WarmUp, started + Run);

        output.WriteLine($"Http.Resilience defaults: {acceptedPerSecond:0.0} accepted/s of a {Rate:0}/s quota, {requestsPerAccepted:0.00} requests at the server per accepted one.");
        Assert.True(acceptedPerSecond >= 95, $"{acceptedPerSecond:0.0} accepted/s, less than 95 of the quota of {Rate:0}/s");
        Assert.True(requestsPerAccepted <= 2, $"{requestsPerAccepted:0.00} requests at the server per accepted one, more than 2");
    }

    [Fact]
    public async Task WaitingOutEveryNamedWait_LeavesQuotaUnusedOrMultipliesRequests()
    {
        // The same load with KeepWithinQuota off: every 429 is waited out (a second, holding a bulkhead permit) and retried.
        // It shows the problem the defaults solve; asserted loosely (it must be worse on one count), printed in full.
        var limiter = new LimitReq();
        await using var server = await LoopbackServer.StartAsync((context, _) => limiter.HandleAsync(context));
        using var clients = new Clients(server.BaseAddress, o => o.Pushback.KeepWithinQuota = false);

        var started = limiter.Now;
        await OfferAsync(clients.Create());
        var (acceptedPerSecond, requestsPerAccepted) = limiter.Measure(started + WarmUp, started + Run);

        output.WriteLine($"KeepWithinQuota off: {acceptedPerSecond:0.0} accepted/s of a {Rate:0}/s quota, {requestsPerAccepted:0.00} requests at the server per accepted one.");
        Assert.True(acceptedPerSecond < 95 || requestsPerAccepted > 2, $"{acceptedPerSecond:0.0} accepted/s at {requestsPerAccepted:0.00} requests per accepted one");
    }
}
