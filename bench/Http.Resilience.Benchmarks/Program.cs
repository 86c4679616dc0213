using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Http.Resilience.Benchmarks;

// dotnet run -c Release --project bench/Http.Resilience.Benchmarks -- [--quick]
// Runs the BenchmarkDotNet suite, then the loopback load run, and writes bench/Http.Resilience.Benchmarks/RESULTS.md.
var quick = args.Contains("--quick");
var skipLoad = args.Contains("--no-load");
// The full run: 5 warm-ups and 15 measured iterations per case (about 25 minutes on 2 cores); --quick: ShortRun (about 20).
var job = (quick ? Job.ShortRun : Job.Default.WithWarmupCount(5).WithIterationCount(15)).WithToolchain(InProcessEmitToolchain.Instance);
var config = ManualConfig.Create(DefaultConfig.Instance).AddJob(job).WithOptions(ConfigOptions.DisableOptimizationsValidator);
if (args.Contains("--alloc-profile"))
{
    foreach (var (variant, bytes) in AllocationProfile.Run())
    {
        Console.WriteLine($"| {variant} | {bytes:0} B |");
    }

    return 0;
}

if (args.Contains("--time-profile"))
{
    foreach (var (variant, nanoseconds) in AllocationProfile.RunTimed())
    {
        Console.WriteLine($"| {variant} | {nanoseconds:0} ns |");
    }

    return 0;
}

if (args.Contains("--load-only"))
{
    foreach (var l in await LoadRun.RunAsync(TimeSpan.FromSeconds(3), rounds: 4))
    {
        Console.WriteLine($"| {l.Name} | {l.RequestsPerSecond:0} req/s | p50 {l.P50Ms:0.00} ms | p99 {l.P99Ms:0.00} ms | {l.BytesPerRequest:0} B |");
    }

    return 0;
}

if (args.Contains("--hedging"))
{
    // Slow tails: p50/p99/p99.9 and extra load of bare, our hedging and Microsoft's standard hedging handler, same run.
    const int RequestsPerRound = 2000;
    const int Rounds = 4;
    var hedging = await HedgingRun.RunAsync(RequestsPerRound, Rounds);
    foreach (var line in HedgingRun.Report(hedging, RequestsPerRound, Rounds))
    {
        Console.WriteLine(line);
    }

    return 0;
}

if (args.Contains("--fleet"))
{
    // What the fleet limits on Redis add per request, beside the local token bucket, in the same run.
    const int RequestsPerRound = 5000;
    const int Rounds = 4;
    const int Loops = 8;
    var fleet = await FleetRun.RunAsync(RequestsPerRound, Rounds, Loops);
    foreach (var line in FleetRun.Report(fleet, RequestsPerRound, Rounds, Loops))
    {
        Console.WriteLine(line);
    }

    return 0;
}

if (args.Contains("--hot-loop"))
{
    AllocationProfile.HotLoop(TimeSpan.FromSeconds(20)); // e.g. under `dotnet-trace collect --profile cpu-sampling -- ...`
    return 0;
}

if (args.Contains("--authorities"))
{
    // Memory held by per-authority state after many distinct authorities (default 1,000,000), with the default cap.
    var count = args.SkipWhile(a => a != "--authorities").Skip(1).Select(a => int.TryParse(a, out var n) ? n : (int?)null).FirstOrDefault() ?? 1_000_000;
    foreach (var line in await AuthorityMemory.RunAsync(count))
    {
        Console.WriteLine(line);
    }

    return 0;
}

if (args.Contains("--alloc-types"))
{
    foreach (var line in AllocationTypes.Run())
    {
        Console.WriteLine(line);
    }

    return 0;
}

var benchmarkArgs = args.Where(a => a is not ("--quick" or "--no-load")).ToArray();
if (benchmarkArgs.Length > 0)
{
    // A partial run (for example --filter '*OpenCircuit*'): print, but leave RESULTS.md to full runs.
    BenchmarkSwitcher.FromTypes([typeof(ChainBenchmarks)]).Run(benchmarkArgs, config);
    return 0;
}

var summary = BenchmarkRunner.Run<ChainBenchmarks>(config);

var results = new StringBuilder();
results.AppendLine("# Benchmark results");
results.AppendLine();
results.AppendLine(CultureInfo.InvariantCulture, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
results.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {CpuName()}, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
results.AppendLine(CultureInfo.InvariantCulture, $"- Command: `dotnet run -c Release --project bench/Http.Resilience.Benchmarks -- {string.Join(' ', args)}` ({(quick ? "BenchmarkDotNet ShortRun: 3 warm-ups, 3 iterations" : "BenchmarkDotNet: 5 warm-ups, 15 iterations")}, in-process toolchain)");
results.AppendLine("- Peers: Microsoft.Extensions.Http.Resilience 10.0.0 `AddStandardResilienceHandler()`, and a hand-built Polly v8 pipeline (concurrency limiter, circuit breaker, retry, timeout) through `AddResilienceHandler`; every client built by IHttpClientFactory over the same in-memory primary handler.");
results.AppendLine();
results.AppendLine("## Targets (ratios from this run)");
results.AppendLine();
results.AppendLine("| target | measured | holds |");
results.AppendLine("|---|---|---|");
foreach (var line in Targets(summary))
{
    results.AppendLine(line);
}

results.AppendLine();
results.AppendLine("## BenchmarkDotNet");
results.AppendLine();
var exporter = MarkdownExporter.GitHub;
using (var writer = new StringWriter(CultureInfo.InvariantCulture))
{
    var logger = new BenchmarkDotNet.Loggers.TextLogger(writer);
    exporter.ExportToLog(summary, logger);
    results.AppendLine(writer.ToString());
}

if (!skipLoad)
{
    var round = quick ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(5);
    var rounds = quick ? 4 : 6;
    var load = await LoadRun.RunAsync(round, rounds);
    var bare = load.Single(l => l.Name == "bare");
    results.AppendLine(CultureInfo.InvariantCulture, $"## Loopback load run (Kestrel on 127.0.0.1, 32 loops, {rounds} rounds of {round.TotalSeconds:0} s each, alternating)");
    results.AppendLine();
    results.AppendLine("| client | requests/s | vs bare | p50 | p99 | allocated per request (client + server) |");
    results.AppendLine("|---|---|---|---|---|---|");
    foreach (var l in load)
    {
        results.AppendLine(CultureInfo.InvariantCulture, $"| {l.Name} | {l.RequestsPerSecond:0} | {l.RequestsPerSecond / bare.RequestsPerSecond:P1} | {l.P50Ms:0.00} ms | {l.P99Ms:0.00} ms | {l.BytesPerRequest:0} B |");
    }

    var ours = load.Single(l => l.Name == "ours");
    results.AppendLine();
    results.AppendLine(CultureInfo.InvariantCulture, $"Target: ours >= 97 % of bare requests/s. Measured {ours.RequestsPerSecond / bare.RequestsPerSecond:P1}: {(ours.RequestsPerSecond >= 0.97 * bare.RequestsPerSecond ? "holds" : "missed")}.");
}

var path = Path.Combine(FindProjectDirectory(), "RESULTS.md");
await File.WriteAllTextAsync(path, results.ToString());
Console.WriteLine($"Wrote {path}");
return 0;

static IEnumerable<string> Targets(Summary summary)
{
    (double Ns, double Bytes) Get(string method)
    {
        var report = summary.Reports.Single(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method);
        return (report.ResultStatistics!.Mean, report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? 0);
    }

    string Row(string target, double ratio, double limit, string detail)
        => string.Create(CultureInfo.InvariantCulture, $"| {target} | {ratio:0.00} ({detail}) | {(ratio <= limit ? "yes" : $"no, by {ratio / limit:0.0}x")} |");

    var floor = Get("ExceptionFloorBare");
    var openMs = Get("OpenCircuitMicrosoftStandard");
    yield return string.Create(CultureInfo.InvariantCulture, $"| floor: one exception through a bare HttpClient | {floor.Ns:0} ns = {floor.Ns / openMs.Ns:0.00} of the standard handler's open-circuit rejection | a rejection that throws cannot cost less; target (3)/(4) needs <= 0.20 |");
    var bare = Get("HappyBare");
    var ours = Get("HappyOurs");
    var ms = Get("HappyMicrosoftStandard");
    yield return Row("(1) our added time <= 1/3 of the standard handler's", (ours.Ns - bare.Ns) / (ms.Ns - bare.Ns), 1.0 / 3,
        $"ours +{ours.Ns - bare.Ns:0} ns, standard +{ms.Ns - bare.Ns:0} ns over bare {bare.Ns:0} ns; limit 0.33");
    yield return Row("(1) our added bytes <= 1/3 of the standard handler's", (ours.Bytes - bare.Bytes) / (ms.Bytes - bare.Bytes), 1.0 / 3,
        $"ours +{ours.Bytes - bare.Bytes:0} B, standard +{ms.Bytes - bare.Bytes:0} B over bare {bare.Bytes:0} B; limit 0.33");
    foreach (var (category, prefix, limit) in new[] { ("(2) retry then success: ours no slower", "Retry", 1.0), ("(5) POST with key: ours no slower", "Post", 1.0), ("(3) open circuit: ours <= 1/5", "OpenCircuit", 0.2), ("(4) bulkhead rejection: ours <= 1/5", "Bulkhead", 0.2) })
    {
        var o = Get(prefix + "Ours");
        var m = Get(prefix + "MicrosoftStandard");
        var p = Get(prefix + "Polly");
        yield return Row(category + " than the standard handler", o.Ns / m.Ns, limit, $"{o.Ns:0} ns vs {m.Ns:0} ns; {o.Bytes:0} B vs {m.Bytes:0} B");
        yield return Row(category + " than hand-built Polly", o.Ns / p.Ns, limit, $"{o.Ns:0} ns vs {p.Ns:0} ns; {o.Bytes:0} B vs {p.Bytes:0} B");
    }
}

static string CpuName()
{
    try
    {
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
    }
    catch (IOException)
    {
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}

static string FindProjectDirectory()
{
    var directory = new DirectoryInfo(AppContext.BaseDirectory);
    while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Http.Resilience.Benchmarks.csproj")))
    {
        directory = directory.Parent;
    }

    return directory?.FullName ?? Directory.GetCurrentDirectory();
}
