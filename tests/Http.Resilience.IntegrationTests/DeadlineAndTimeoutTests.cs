using System.Diagnostics;
using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.IntegrationTests;

/// <summary>Behaviours 1, 2 and 9 of the foundation issue over real HTTP, against a Kestrel endpoint that delays.</summary>
public class DeadlineAndTimeoutTests
{
    // Real time: the upper margins are generous so a loaded 2-core machine meets them; lower bounds prove waits happened.
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1.5);

    [Fact]
    public async Task SlowDependency_ManyRetries_LogicalRequestEndsAtItsDeadline()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => LoopbackServer.DelayAsync(ctx, TimeSpan.FromSeconds(10)));
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Deadline = TimeSpan.FromSeconds(1);
            o.AttemptTimeout = TimeSpan.FromMilliseconds(300);
            o.Retry.MaxRetries = 10;
            o.Retry.BaseDelay = TimeSpan.Zero;
        });
        var client = clients.Create();
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<DeadlineExceededException>(() => client.GetAsync("/slow"));

        watch.Stop();
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(1) + Margin);
        Assert.InRange(server.Hits, 1, 4); // attempts start at least 300 ms apart inside a 1 s budget
        Assert.IsType<TimeoutException>(ex.InnerException);
    }

    [Fact]
    public async Task CallerCancelsWhileServerWorks_OperationCanceledNeverRetriedNeverDeadline()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => LoopbackServer.DelayAsync(ctx, TimeSpan.FromSeconds(10)));
        using var clients = new Clients(server.BaseAddress, o => o.AttemptTimeout = TimeSpan.FromSeconds(5));
        var client = clients.Create();
        using var cts = new CancellationTokenSource();

        var send = client.GetAsync("/slow", cts.Token);
        await server.FirstRequestArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
        Assert.IsNotType<TimeoutException>(ex.InnerException);
        Assert.Equal(1, server.Hits);
    }

    [Fact]
    public async Task FirstAttemptHangs_TimesOutAndSecondAttemptSucceeds()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, n) =>
            n == 1 ? LoopbackServer.DelayAsync(ctx, TimeSpan.FromSeconds(10)) : ctx.Response.WriteAsync("ok"));
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.AttemptTimeout = TimeSpan.FromMilliseconds(300);
            o.Retry.BaseDelay = TimeSpan.Zero;
        });
        var watch = Stopwatch.StartNew();

        using var response = await clients.Create().GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, server.Hits);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(300) + Margin);
    }

    [Fact]
    public async Task LastAttemptTimesOutWithBudgetLeft_HttpResilienceExceptionWithTimeoutInside()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => LoopbackServer.DelayAsync(ctx, TimeSpan.FromSeconds(10)));
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.AttemptTimeout = TimeSpan.FromMilliseconds(300);
            o.Retry.Enabled = false;
        });

        var ex = await Record.ExceptionAsync(() => clients.Create().GetAsync("/"));

        var resilience = Assert.IsAssignableFrom<HttpResilienceException>(ex);
        Assert.IsNotType<DeadlineExceededException>(resilience);
        Assert.IsType<TimeoutException>(resilience.InnerException);
        Assert.Equal(1, server.Hits);
    }

    [Fact]
    public async Task UserSetShortHttpClientTimeout_IsHonouredAsTheDeadline()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => LoopbackServer.DelayAsync(ctx, TimeSpan.FromSeconds(10)));
        using var clients = new Clients(
            server.BaseAddress,
            o => o.AttemptTimeout = TimeSpan.FromSeconds(5),
            client: b => b.ConfigureHttpClient(c => c.Timeout = TimeSpan.FromMilliseconds(500)));
        var client = clients.Create();
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<DeadlineExceededException>(() => client.GetAsync("/"));

        Assert.Equal(TimeSpan.FromMilliseconds(500), ex.Deadline);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(500) + Margin);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), client.Timeout); // the deadline plus a one-second backstop
    }
}
