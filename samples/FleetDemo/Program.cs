using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Http.Resilience;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// dotnet run --project samples/FleetDemo [-- --phase <seconds>]
// Four replicas of a service call one payment provider whose quota is 100 requests/s for the whole account. It prints what
// the provider receives each second: with local limits only (100/s per replica), with the fleet limit on Redis, while
// Redis is down (each replica on its local share), and after Redis is back. Everything runs on 127.0.0.1 and stops by itself.
var phaseSeconds = args.SkipWhile(a => a != "--phase").Skip(1).Select(a => int.TryParse(a, out var n) ? n : 0).FirstOrDefault(n => n is >= 2 and <= 60);
phaseSeconds = phaseSeconds == 0 ? 4 : phaseSeconds;
const int Replicas = 4;
const int Quota = 100;

var redisBinary = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);
if (redisBinary is null)
{
    Console.Error.WriteLine("FleetDemo needs redis-server: install it with 'apt-get install -y redis-server' (Debian/Ubuntu).");
    return 1;
}

var redisPort = FreePort();
var redis = StartRedis(redisBinary, redisPort);
await WaitForPortAsync(redisPort);

var received = new ConcurrentDictionary<long, int>(); // second of the run -> requests the provider received
var clock = Stopwatch.StartNew();
var builder = WebApplication.CreateSlimBuilder();
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Logging.ClearProviders();
await using var provider = builder.Build();
provider.MapGet("/charge", () =>
{
    received.AddOrUpdate((long)clock.Elapsed.TotalSeconds, 1, static (_, n) => n + 1);
    return Results.Text("ok");
});
await provider.StartAsync();
var address = new Uri(provider.Urls.First() + "/");

var replicas = Enumerable.Range(0, Replicas).Select(_ =>
{
    var services = new ServiceCollection();
    services.AddHttpClient("local", c => c.BaseAddress = address).AddHttpResilience(o =>
    {
        o.RateLimit.Enabled = true; // what each replica can do alone: the whole quota, each
        o.RateLimit.TokensPerPeriod = Quota;
        o.RateLimit.TokenLimit = Quota;
    });
    services.AddHttpClient("fleet", c => c.BaseAddress = address).AddHttpResilience().AddFleetRateLimit(o =>
    {
        o.ConnectionString = $"127.0.0.1:{redisPort},abortConnect=false,connectTimeout=500";
        o.Key = "payment:quota";
        o.PermitsPerSecond = Quota;
        o.Burst = 20;
        o.ExpectedReplicas = Replicas;
    });
    return services.BuildServiceProvider();
}).ToArray();

var phases = new[] { ("local limits only", "local"), ("fleet limit on Redis", "fleet"), ("Redis killed: local shares", "fleet"), ("Redis restarted", "fleet") };
Console.WriteLine($"Four replicas, 8 callers each, against a provider whose quota is {Quota} requests/s for the account. Phases of {phaseSeconds} s.");
Console.WriteLine();
Console.WriteLine("| second | phase | provider received | rejected by the replicas |");
Console.WriteLine("|---|---|---|---|");
var rejected = new ConcurrentDictionary<long, int>();
for (var p = 0; p < phases.Length; p++)
{
    var (title, client) = phases[p];
    if (p == 2)
    {
        redis.Kill();
        redis.WaitForExit();
    }
    else if (p == 3)
    {
        redis = StartRedis(redisBinary, redisPort);
        await WaitForPortAsync(redisPort);
    }

    var start = clock.Elapsed;
    await Task.WhenAll(replicas.SelectMany(replica => Enumerable.Range(0, 8).Select(async _ =>
    {
        var http = replica.GetRequiredService<IHttpClientFactory>().CreateClient(client);
        while (clock.Elapsed - start < TimeSpan.FromSeconds(phaseSeconds))
        {
            try
            {
                using var response = await http.GetAsync("charge");
            }
            catch (HttpResilienceException)
            {
                rejected.AddOrUpdate((long)clock.Elapsed.TotalSeconds, 1, static (_, n) => n + 1);
                await Task.Delay(10); // a caller that was turned away tries again a little later
            }
        }
    })));

    for (var second = (long)Math.Ceiling(start.TotalSeconds); second < (long)clock.Elapsed.TotalSeconds; second++)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {second} | {title} | {received.GetValueOrDefault(second)}/s | {rejected.GetValueOrDefault(second)} |"));
    }
}

foreach (var replica in replicas)
{
    await replica.DisposeAsync();
}

redis.Kill();
Console.WriteLine();
Console.WriteLine($"With local limits only the provider gets {Replicas} x its quota; with the fleet limit it gets about its quota, also while Redis is down (each replica keeps to a quarter of it) and after it is back.");
return 0;

static Process StartRedis(string binary, int port)
{
    var info = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no" })
    {
        info.ArgumentList.Add(argument);
    }

    var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
    process.OutputDataReceived += (_, _) => { };
    process.ErrorDataReceived += (_, _) => { };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static async Task WaitForPortAsync(int port)
{
    for (var attempt = 0; attempt < 200; attempt++)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return;
        }
        catch (SocketException)
        {
            await Task.Delay(25); // redis-server is starting
        }
    }

    throw new InvalidOperationException($"redis-server did not listen on port {port}.");
}
