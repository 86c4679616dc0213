using System.Diagnostics;
using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.IntegrationTests;

/// <summary>The bulkhead over real HTTP against a slow Kestrel endpoint.</summary>
public class BulkheadTests
{
    [Fact]
    public async Task SlowDependency_FillsOnlyItsOwnBulkhead_OthersAreUnaffected()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(async (ctx, _) =>
        {
            if (ctx.Request.Path.StartsWithSegments("/pay"))
            {
                await release.Task.WaitAsync(TimeSpan.FromSeconds(20));
            }

            await ctx.Response.WriteAsync("ok");
        });
        var services = new ServiceCollection();
        services.AddHttpClient("payment", c => c.BaseAddress = server.BaseAddress)
            .AddHttpResilience(o =>
            {
                o.Deadline = o.AttemptTimeout = TimeSpan.FromSeconds(15);
                o.Bulkhead.MaxConcurrency = 2;
            });
        services.AddHttpClient("catalog", c => c.BaseAddress = server.BaseAddress)
            .AddHttpResilience(o => o.Bulkhead.MaxConcurrency = 2);
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        var monitor = provider.GetRequiredService<IHttpResilienceMonitor>();

        var held = new[] { factory.CreateClient("payment").GetAsync("/pay"), factory.CreateClient("payment").GetAsync("/pay") };
        await server.WaitForHitsAsync(2);
        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<BulkheadRejectedException>(() => factory.CreateClient("payment").GetAsync("/pay"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"rejection took {watch.Elapsed}");
        Assert.Contains("2 of 2 in flight", ex.Message, StringComparison.Ordinal);

        for (var i = 0; i < 5; i++)
        {
            using var catalog = await factory.CreateClient("catalog").GetAsync("/items"); // never delayed by payment
            Assert.Equal(HttpStatusCode.OK, catalog.StatusCode);
        }

        Assert.Equal(2, monitor.GetBulkheads().Single(b => b.ClientName == "payment").Active);
        release.SetResult();
        foreach (var response in await Task.WhenAll(held))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        using var again = await factory.CreateClient("payment").GetAsync("/pay");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(0, monitor.GetBulkheads().Single(b => b.ClientName == "payment").Active);
        Assert.Equal(1, monitor.GetBulkheads().Single(b => b.ClientName == "payment").Rejected);
    }

    [Fact]
    public async Task PermitsComeBackAfterTimeoutsDeadlinesAndCancellations()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) =>
            ctx.Request.Path.StartsWithSegments("/slow") ? LoopbackServer.DelayAsync(ctx, TimeSpan.FromSeconds(10)) : ctx.Response.WriteAsync("ok"));
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Deadline = TimeSpan.FromMilliseconds(600);
            o.AttemptTimeout = TimeSpan.FromMilliseconds(200);
            o.Retry.Enabled = false;
            o.Bulkhead.MaxConcurrency = 1;
        });
        var client = clients.Create();

        var timeout = await Record.ExceptionAsync(() => client.GetAsync("/slow"));
        Assert.IsAssignableFrom<HttpResilienceException>(timeout);

        using var cts = new CancellationTokenSource();
        var hits = server.Hits;
        var cancelled = client.GetAsync("/slow", cts.Token);
        await server.WaitForHitsAsync(hits + 1); // in flight at the server, then cancelled

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        using var ok = await client.GetAsync("/fast");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}
