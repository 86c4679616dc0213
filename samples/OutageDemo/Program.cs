using System.Globalization;
using System.Net;
using Http.Resilience;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OutageDemo;

// The "Tuesday, 2:47 PM" outage of the article "Failure Is Not an Option", replayed on 127.0.0.1 twice: with plain HttpClients, then with Http.Resilience.
// dotnet run --project samples/OutageDemo [-- --duration 20] [--seed 1] [--no-chart]
// dotnet run --project samples/OutageDemo -- --scenario storm [--outage 30] [--max-drain 60] [--mode lockstep|microsoft|http-resilience]:
// the retry storm, three ways (or the one named)
var duration = TimeSpan.FromSeconds(20);
var seed = 1;
var chart = true;
string? scenario = null;
var outage = TimeSpan.FromSeconds(30);
var maxDrain = TimeSpan.FromSeconds(60);
var modes = Storm.Modes.Keys.ToList();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--scenario" when i + 1 < args.Length && args[i + 1] is "storm" or "outage":
            scenario = args[i + 1];
            i++;
            break;
        case "--mode" when i + 1 < args.Length && Storm.Modes.ContainsKey(args[i + 1]):
            modes = [args[i + 1]];
            i++;
            break;
        case "--max-drain" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m is >= 1 and <= 600:
            maxDrain = TimeSpan.FromSeconds(m);
            i++;
            break;
        case "--outage" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var o) && o is >= 1 and <= 120:
            outage = TimeSpan.FromSeconds(o);
            i++;
            break;
        case "--duration" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s is >= 8 and <= 120:
            duration = TimeSpan.FromSeconds(s);
            i++;
            break;
        case "--seed" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n):
            seed = n;
            i++;
            break;
        case "--no-chart":
            chart = false;
            break;
        default:
            Console.Error.WriteLine($"Unknown or invalid argument '{args[i]}'. Usage: OutageDemo [--duration 8..120 seconds per run] [--seed N] [--no-chart] [--scenario outage|storm] [--outage 1..120 seconds] [--max-drain 1..600 seconds] [--mode lockstep|microsoft|http-resilience] (the last three: storm only)");
            return 2;
    }
}

if (scenario == "storm")
{
    return await Storm.RunAsync(outage, maxDrain, chart, modes);
}

const int Users = 40;
const int Workers = 16;
var script = new Script(duration);
await using var server = await DemoServer.StartAsync(script);
Console.WriteLine($"Http.Resilience outage demo: {Users} users, {Workers} server workers, payment slows to 5 s from T+{script.SlowFrom.TotalSeconds:0}s to T+{script.SlowUntil.TotalSeconds:0}s.");
Console.WriteLine($"Dependencies on {server.Address} (seed {seed}, {duration.TotalSeconds:0}s per run).");
Console.WriteLine();

var plain = await RunAsync("plain", services =>
{
    services.AddHttpClient("payment", c => c.BaseAddress = server.Address);
    services.AddHttpClient("catalog", c => c.BaseAddress = server.Address);
});
var timeline = new Timeline(script);
var chain = await RunAsync("chain", services =>
{
    services.AddLogging(b => b.AddProvider(timeline).SetMinimumLevel(LogLevel.Debug));
    services.AddHttpClient("payment", c => c.BaseAddress = server.Address).AddHttpResilience(o =>
    {
        o.Deadline = TimeSpan.FromSeconds(2.5);
        o.AttemptTimeout = TimeSpan.FromSeconds(1);
        o.Retry.MaxRetries = 1;
        o.Retry.BaseDelay = TimeSpan.FromMilliseconds(100);
        o.CircuitBreaker.MinimumThroughput = 5;
        o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(2);
        o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(Math.Max(1, duration.TotalSeconds / 10));
        o.Bulkhead.MaxConcurrency = 10; // fewer than the 16 workers: payment can never starve the catalog
        o.Fallback.Enabled = true;
        o.Fallback.UseResponse((_, _) => new HttpResponseMessage(HttpStatusCode.Accepted) { Content = new StringContent("order pending") });
    });
    services.AddHttpClient("catalog", c => c.BaseAddress = server.Address).AddHttpResilience(o =>
    {
        o.Deadline = TimeSpan.FromSeconds(2);
        o.AttemptTimeout = TimeSpan.FromSeconds(1);
        o.Bulkhead.MaxConcurrency = Workers;
    });
}, provider => provider.GetRequiredService<IHttpResilienceMonitor>().CircuitStateChanged += timeline.OnCircuit);

Console.WriteLine();
Console.WriteLine("What happened with Http.Resilience (from the chain's own events; a count says how often that event");
Console.WriteLine("happened in that phase, shown at its first occurrence):");
foreach (var line in timeline.Render())
{
    Console.WriteLine(line);
}

Console.WriteLine();
Console.WriteLine("Side by side (latency as the user saw it, queueing for a server worker included):");
foreach (var line in Report.Table(plain, chain))
{
    Console.WriteLine(line);
}

var plainCatalog = RunResult.Percentile(plain.DuringSlowdown(checkout: false), 0.99);
var chainCatalog = RunResult.Percentile(chain.DuringSlowdown(checkout: false), 0.99);
Console.WriteLine();
Console.WriteLine($"Headline: during the payment slowdown, catalog p99 was {plainCatalog:0} ms without the chain and {chainCatalog:0} ms with it " +
                  $"({(chainCatalog < plainCatalog / 5 ? "catalog unaffected" : "catalog NOT isolated: investigate")}).");

if (chart)
{
    var path = Path.GetFullPath("outage-demo.png");
    PngChart.Write(path, plain, chain);
    Console.WriteLine($"Chart written to {path}");
}

return 0;

async Task<RunResult> RunAsync(string name, Action<IServiceCollection> configure, Action<IServiceProvider>? observe = null)
{
    var services = new ServiceCollection();
    configure(services);
    await using var provider = services.BuildServiceProvider();
    observe?.Invoke(provider);
    var factory = provider.GetRequiredService<IHttpClientFactory>();
    var simulation = new Simulation(script, Users, Workers, seed);
    var run = simulation.RunAsync(factory.CreateClient("payment"), factory.CreateClient("catalog"));
    var interactive = !Console.IsOutputRedirected;
    var lastPrinted = TimeSpan.Zero;
    while (!run.IsCompleted)
    {
        await Task.WhenAny(run, Task.Delay(TimeSpan.FromMilliseconds(250)));
        var now = script.Now;
        var progress = $"  [{name,-5}] T+{Math.Min(now.TotalSeconds, duration.TotalSeconds),5:0.0}s  in flight {simulation.InFlight,3}  answered {simulation.Completed,5}";
        if (interactive)
        {
            Console.Write($"\r{progress}   ");
        }
        else if ((now - lastPrinted >= TimeSpan.FromSeconds(5) && now < duration) || run.IsCompleted)
        {
            Console.WriteLine(progress); // the end of the run is printed once, when the last user action has finished
            lastPrinted = now;
        }
    }

    await run;
    if (interactive)
    {
        Console.WriteLine();
    }

    return new RunResult(name, simulation.Samples, simulation.PeakInFlight, script);
}
