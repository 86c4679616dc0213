using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Http.Resilience.IntegrationTests.Helpers;

/// <summary>A real Kestrel server on 127.0.0.1 with an ephemeral port, answering with the given delegate.</summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private const string WarmUpPath = "/__warmup";
    private readonly List<TaskCompletionSource> _hitSignals = [];
    private int _hits;

    private LoopbackServer(WebApplication app)
    {
        _app = app;
        BaseAddress = new Uri(app.Urls.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
    }

    public Uri BaseAddress { get; }

    /// <summary>Gets the number of requests the server has received.</summary>
    public int Hits => Volatile.Read(ref _hits);

    /// <summary>Completes when the first request has reached the server.</summary>
    public TaskCompletionSource FirstRequestArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts a server; the handler gets the 1-based number of the request it answers.</summary>
    public static async Task<LoopbackServer> StartAsync(Func<HttpContext, int, Task> handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        LoopbackServer? server = null;
        app.Run(async context =>
        {
            if (context.Request.Path == WarmUpPath)
            {
                return; // not counted: it only makes sure Kestrel's first-request costs are paid before a timed test
            }

            var n = Interlocked.Increment(ref server!._hits);
            server.FirstRequestArrived.TrySetResult();
            server.HitSignal(n).TrySetResult();
            await handler(context, n);
        });
        await app.StartAsync();
        server = new LoopbackServer(app);
        using var warmUp = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var _ = await warmUp.GetAsync(WarmUpPath);
        return server;
    }

    /// <summary>Completes once the server has received <paramref name="count"/> requests; fails the test after 15 s of real time.</summary>
    public Task WaitForHitsAsync(int count) => HitSignal(count).Task.WaitAsync(TimeSpan.FromSeconds(15));

    private TaskCompletionSource HitSignal(int n)
    {
        lock (_hitSignals)
        {
            while (_hitSignals.Count < n)
            {
                _hitSignals.Add(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }

            return _hitSignals[n - 1];
        }
    }

    /// <summary>Waits as long as asked, or until the client goes away (the attempt timed out or was cancelled).</summary>
    public static async Task DelayAsync(HttpContext context, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, context.RequestAborted);
            await context.Response.WriteAsync("late", context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // the client gave up on this attempt: nothing to answer
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
