using System.Collections.Concurrent;
using System.Net.Http.Json;
using Http.Resilience;

namespace OutageDemo;

/// <summary>One user action, as the user saw it.</summary>
internal readonly record struct Sample(TimeSpan At, bool Checkout, TimeSpan Latency, bool Ok, bool Fallback);

/// <summary>
/// The store under test: simulated users check out (payment) and browse (catalog) through a fixed pool of server
/// workers, as a web server's threads would be. Without the chain, slow payment calls hold the workers and browsing
/// queues behind them; with it, payment calls end within their deadline, the circuit fails them fast, and the bulkhead
/// caps how many workers payment can hold.
/// </summary>
internal sealed class Simulation(Script script, int users, int workers, int seed)
{
    private readonly ConcurrentQueue<Sample> _samples = new();
    private int _inFlight;
    private int _peakInFlight;

    public IReadOnlyCollection<Sample> Samples => _samples;

    public int PeakInFlight => _peakInFlight;

    public int InFlight => Volatile.Read(ref _inFlight);

    public int Completed => _samples.Count;

    public async Task RunAsync(HttpClient payment, HttpClient catalog)
    {
        using var pool = new SemaphoreSlim(workers);
        using var stop = new CancellationTokenSource(script.Duration);
        script.Restart();
        var loops = Enumerable.Range(0, users).Select(i => UserAsync(i, pool, payment, catalog, stop.Token)).ToArray();
        await Task.WhenAll(loops);
    }

    private async Task UserAsync(int user, SemaphoreSlim pool, HttpClient payment, HttpClient catalog, CancellationToken stop)
    {
        var random = new Random(seed * 1000 + user);
        await Task.Delay(TimeSpan.FromMilliseconds(random.Next(0, 250)), CancellationToken.None); // stagger the start
        while (!stop.IsCancellationRequested)
        {
            var checkout = random.NextDouble() < 0.3;
            var at = script.Now;
            var inFlight = Interlocked.Increment(ref _inFlight);
            InterlockedMax(ref _peakInFlight, inFlight);
            var ok = false;
            var fallback = false;

            // A user gives up after 10 s; the action still holds its worker until the call returns, as a server thread would.
            await pool.WaitAsync(CancellationToken.None);
            try
            {
                using var response = checkout
                    ? await payment.PostAsJsonAsync("pay", new { order = Guid.NewGuid() }, CancellationToken.None)
                    : await catalog.GetAsync("catalog", CancellationToken.None);
                ok = response.IsSuccessStatusCode;
                fallback = response.GetFallbackInfo() is not null;
            }
            catch (HttpRequestException)
            {
                ok = false; // deadline spent, circuit open, bulkhead full, connection failed: all answered fast
            }
            catch (TaskCanceledException)
            {
                ok = false; // HttpClient.Timeout (plain clients)
            }
            finally
            {
                pool.Release();
                Interlocked.Decrement(ref _inFlight);
            }

            _samples.Enqueue(new Sample(at, checkout, script.Now - at, ok, fallback));
            await Task.Delay(TimeSpan.FromMilliseconds(400 + random.Next(0, 200)), CancellationToken.None); // think time
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
