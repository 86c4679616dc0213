using System.Net;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Http.Resilience.Tests;

public class BulkheadHandlerTests
{
    private static ChainHarness Create(Action<HttpResilienceOptions>? configure = null)
        => new(o =>
        {
            o.Bulkhead.MaxConcurrency = 1;
            o.Retry.BaseDelay = TimeSpan.Zero;
            configure?.Invoke(o);
        });

    private static BulkheadSnapshot Snapshot(ChainHarness h)
        => Assert.Single(h.Services.GetRequiredService<IHttpResilienceMonitor>().GetBulkheads());

    [Fact]
    public async Task SendAsync_Full_RejectsAtOnceWithoutCallingTheDependency()
    {
        using var h = Create();
        h.Stub.ThenHang();
        var client = h.CreateClient();
        var holder = client.GetAsync("/");
        await h.Stub.WaitForCallsAsync(1);

        var ex = await Assert.ThrowsAsync<BulkheadRejectedException>(() => client.GetAsync("/"));

        Assert.Equal(1, h.Stub.CallCount);
        Assert.Contains("1 of 1 in flight", ex.Message, StringComparison.Ordinal);
        Assert.Equal(new BulkheadSnapshot(ChainHarness.ClientName, null, 1, 1, 0, 1), Snapshot(h));
        Assert.False(holder.IsCompleted);
    }

    [Fact]
    public async Task SendAsync_RejectionIsNotACircuitFailure()
    {
        using var h = Create(o => o.CircuitBreaker.MinimumThroughput = 1);
        h.Stub.ThenHang();
        var client = h.CreateClient();
        _ = client.GetAsync("/");
        await h.Stub.WaitForCallsAsync(1);

        for (var i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<BulkheadRejectedException>(() => client.GetAsync("/"));
        }

        Assert.Equal(0, h.Registry.GetOrAddCircuit(ChainHarness.ClientName, null).GetHealth().Requests);
    }

    public static TheoryData<string> Paths => new()
    {
        "success", "error status", "exception", "attempt timeout", "deadline", "caller cancellation", "circuit open",
    };

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task SendAsync_EveryPath_ReturnsThePermit(string path)
    {
        using var h = Create(o =>
        {
            o.Retry.Enabled = false;
            o.Deadline = TimeSpan.FromSeconds(5);
            o.AttemptTimeout = path == "deadline" ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(2);
            o.CircuitBreaker.MinimumThroughput = 1;
        });
        var client = h.CreateClient();
        using var cts = new CancellationTokenSource();
        switch (path)
        {
            case "success":
                h.Stub.ThenStatus(HttpStatusCode.OK);
                (await client.GetAsync("/")).Dispose();
                break;
            case "error status":
                h.Stub.ThenStatus(HttpStatusCode.BadRequest);
                (await client.GetAsync("/")).Dispose();
                break;
            case "exception":
                h.Stub.ThenThrow(new HttpRequestException("refused"));
                await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/"));
                break;
            case "attempt timeout":
            case "deadline":
            case "caller cancellation":
                h.Stub.ThenHang();
                var send = client.GetAsync("/", cts.Token);
                await h.Stub.WaitForCallsAsync(1);
                if (path == "caller cancellation")
                {
                    await cts.CancelAsync();
                }
                else
                {
                    h.Clock.Advance(path == "deadline" ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(2));
                }

                var ex = await Record.ExceptionAsync(() => send);
                Assert.True(path == "caller cancellation" ? ex is OperationCanceledException : ex is HttpResilienceException, ex?.ToString());
                break;
            case "circuit open":
                h.Stub.ThenStatus(HttpStatusCode.InternalServerError);
                (await client.GetAsync("/")).Dispose();
                await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync("/"));
                break;
        }

        Assert.Equal(0, Snapshot(h).Active);
        h.Clock.Advance(TimeSpan.FromMinutes(1)); // past any break, so the next request is let through
        h.Stub.ThenStatus(HttpStatusCode.OK);
        using var next = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task SendAsync_Queued_WaitsAtMostMaxQueueWaitThenRejects()
    {
        using var h = Create(o =>
        {
            o.Bulkhead.MaxQueue = 1;
            o.Bulkhead.MaxQueueWait = TimeSpan.FromSeconds(1);
        });
        h.Stub.ThenHang();
        var client = h.CreateClient();
        _ = client.GetAsync("/");
        await h.Stub.WaitForCallsAsync(1);
        await h.Clock.NextTimerAsync(); // the first one's attempt

        var queued = client.GetAsync("/");
        Assert.Equal(TimeSpan.FromSeconds(1), await h.Clock.NextTimerAsync()); // its wait in the queue
        Assert.Equal(1, Snapshot(h).Queued);
        await Assert.ThrowsAsync<BulkheadRejectedException>(() => client.GetAsync("/")); // the queue is full too
        h.Clock.Advance(TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<BulkheadRejectedException>(() => queued);
        Assert.Contains("within 1000 ms", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_Queued_WaitIsClippedToTheBudget()
    {
        using var h = Create(o =>
        {
            o.Deadline = TimeSpan.FromSeconds(3);
            o.Bulkhead.MaxQueue = 5;
        });
        var client = h.CreateClient();
        var options = new HttpResilienceOptions().Bulkhead;
        options.MaxConcurrency = 1;
        options.MaxQueue = 5;
        using var held = h.Registry.GetOrAddBulkhead(ChainHarness.ClientName, null, options).GetGeneration(options).Limiter!.AttemptAcquire(); // the permit, held by the test

        var queued = client.GetAsync("/");
        Assert.Equal(TimeSpan.FromSeconds(3), await h.Clock.NextTimerAsync()); // MaxQueueWait is infinite: the budget bounds it
        h.Clock.Advance(TimeSpan.FromSeconds(3));

        await Assert.ThrowsAsync<BulkheadRejectedException>(() => queued);
        Assert.Equal(0, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_Queued_GetsThePermitWhenItIsReturned()
    {
        using var h = Create(o => o.Bulkhead.MaxQueue = 1);
        var release = new TaskCompletionSource<HttpResponseMessage>();
        h.Stub.Then((_, _) => release.Task).ThenStatus(HttpStatusCode.OK);
        var client = h.CreateClient();
        var first = client.GetAsync("/");
        await h.Stub.WaitForCallsAsync(1);

        var queued = client.GetAsync("/");
        Assert.False(queued.IsCompleted);
        release.SetResult(new HttpResponseMessage(HttpStatusCode.Accepted));

        using var firstResponse = await first;
        using var queuedResponse = await queued;
        Assert.Equal(HttpStatusCode.OK, queuedResponse.StatusCode);
        Assert.Equal(2, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_Queued_CallerCancellationIsACancellationNotARejection()
    {
        using var h = Create(o => o.Bulkhead.MaxQueue = 1);
        h.Stub.ThenHang();
        var client = h.CreateClient();
        _ = client.GetAsync("/");
        await h.Stub.WaitForCallsAsync(1);
        using var cts = new CancellationTokenSource();

        var queued = client.GetAsync("/", cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Assert.Equal(0, Snapshot(h).Queued);
    }

    [Fact]
    public void CreateClient_PoolSmallerThanBulkhead_WarnsOncePerClient()
    {
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs));
        services.AddHttpClient("payment")
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { MaxConnectionsPerServer = 5 })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .AddHttpResilience(o => o.Bulkhead.MaxConcurrency = 20);
        services.AddHttpClient("catalog")
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { MaxConnectionsPerServer = 50 })
            .AddHttpResilience(o => o.Bulkhead.MaxConcurrency = 20);
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        factory.CreateClient("payment").Dispose();
        factory.CreateClient("payment").Dispose();
        factory.CreateClient("catalog").Dispose();

        var warning = Assert.Single(logs.Entries, e => e.Category == "Http.Resilience");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal(1, warning.EventId.Id);
        Assert.Contains("'payment'", warning.Message, StringComparison.Ordinal);
        Assert.Contains("5 connections per server", warning.Message, StringComparison.Ordinal);
        Assert.Contains("admits 20", warning.Message, StringComparison.Ordinal);
    }
}
