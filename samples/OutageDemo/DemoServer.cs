using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace OutageDemo;

/// <summary>
/// The dependencies, on 127.0.0.1: a payment API that is normally ~200 ms, slows to 5 s, then recovers; and a catalog
/// API that is always fast. The script's clock is shared with the simulated users.
/// </summary>
internal sealed class DemoServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DemoServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<DemoServer> StartAsync(Script script)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/pay", async (HttpContext context) =>
        {
            try
            {
                await Task.Delay(script.PaymentLatency(), context.RequestAborted);
                return Results.Ok(new { status = "charged" });
            }
            catch (OperationCanceledException)
            {
                return Results.StatusCode(499); // the client gave up: nobody reads this
            }
        });
        app.MapGet("/catalog", async (HttpContext context) =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), context.RequestAborted);
            return Results.Ok(new[] { "teapot", "kettle", "mug" });
        });
        await app.StartAsync();
        return new DemoServer(app, new Uri(app.Urls.First() + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The outage script, scaled to the run's duration: normal, slow (the 2:48 PM slowdown), recovered.</summary>
internal sealed class Script(TimeSpan duration)
{
    private long _start = System.Diagnostics.Stopwatch.GetTimestamp();

    public TimeSpan Duration { get; } = duration;

    public TimeSpan SlowFrom => Duration * 0.25;

    public TimeSpan SlowUntil => Duration * 0.65;

    public TimeSpan Now => System.Diagnostics.Stopwatch.GetElapsedTime(_start);

    public void Restart() => _start = System.Diagnostics.Stopwatch.GetTimestamp();

    public bool InSlowdown(TimeSpan at) => at >= SlowFrom && at < SlowUntil;

    public TimeSpan PaymentLatency() => InSlowdown(Now) ? TimeSpan.FromSeconds(5) : TimeSpan.FromMilliseconds(200);
}
