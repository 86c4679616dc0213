using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;

namespace Http.Resilience.IntegrationTests;

/// <summary>
/// The logical request as a span over real HTTP: Kestrel on 127.0.0.1, HttpClient's own attempt spans, an
/// <see cref="ActivityListener"/> as an exporter would have. Each test starts a root span of its own and looks only at
/// its trace, since other tests run at the same time.
/// </summary>
[Collection(HeavyCollection.Name)] // its listener samples every HttpClient span of the process while it lives: not beside other tests
public sealed class TracingTests : IDisposable
{
    private static readonly ActivitySource TestSource = new("Http.Resilience.IntegrationTests.Tracing");
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public TracingTests()
    {
        var testSource = TestSource; // made before the listener: a source made while listeners are asked is not listened to
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Http.Resilience" or "System.Net.Http" || source == testSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    private (Activity Logical, Activity[] Attempts) TreeOf(Activity root)
    {
        var trace = _stopped.Where(a => a.TraceId == root.TraceId).ToList();
        var logical = Assert.Single(trace, a => a.Source.Name == "Http.Resilience");
        Assert.Equal(root.SpanId, logical.ParentSpanId);
        var attempts = trace.Where(a => a.Source.Name == "System.Net.Http").OrderBy(a => a.StartTimeUtc).ToArray();
        Assert.All(attempts, a => Assert.Equal(logical.SpanId, a.ParentSpanId)); // every attempt under the logical request
        return (logical, attempts);
    }

    [Fact]
    public async Task Status503_503_200_OneLogicalSpan_ThreeAttemptSpansUnderIt_TwoRetryEvents()
    {
        await using var server = await LoopbackServer.StartAsync((context, n) =>
        {
            context.Response.StatusCode = n <= 2 ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
            return Task.CompletedTask;
        });
        using var clients = new Clients(server.BaseAddress, o => o.Retry.BaseDelay = TimeSpan.FromMilliseconds(1));

        Activity root;
        using (root = TestSource.StartActivity("test")!)
        {
            using var response = await clients.Create().GetAsync("/orders");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var (logical, attempts) = TreeOf(root);
        Assert.Equal(3, attempts.Length);
        Assert.Equal([null, 1, 2], attempts.Select(a => a.GetTagItem("http.request.resend_count")));
        var retries = logical.Events.Where(e => e.Name == "retry_scheduled").ToList();
        Assert.Equal(2, retries.Count);
        Assert.All(retries, e => Assert.Equal("503", e.Tags.Single(t => t.Key == "http.resilience.reason").Value));
        Assert.Equal(3, logical.GetTagItem("http.resilience.attempts"));
        Assert.Equal("success", logical.GetTagItem("http.resilience.outcome"));
        Assert.Equal(200, logical.GetTagItem("http.response.status_code"));
        Assert.Equal(Clients.Name, logical.GetTagItem("http.resilience.client.name"));
        Assert.Equal("GET", logical.GetTagItem("http.request.method"));
        Assert.Equal(10.0, logical.GetTagItem("http.resilience.deadline"));
        Assert.IsType<double>(logical.GetTagItem("http.resilience.time_left"));
        Assert.Equal(ActivityStatusCode.Unset, logical.Status);
    }

    [Fact]
    public async Task HangingDependency_TimedOutAttemptsAndTheSpentBudgetAreEvents_TheSpanIsAnError()
    {
        await using var server = await LoopbackServer.StartAsync((context, _) => LoopbackServer.DelayAsync(context, TimeSpan.FromSeconds(30)));
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Deadline = TimeSpan.FromMilliseconds(600);
            o.AttemptTimeout = TimeSpan.FromMilliseconds(250);
            o.Retry.BaseDelay = TimeSpan.FromMilliseconds(1);
        });

        Activity root;
        using (root = TestSource.StartActivity("test")!)
        {
            await Assert.ThrowsAsync<DeadlineExceededException>(() => clients.Create().GetAsync("/slow"));
        }

        var (logical, attempts) = TreeOf(root);
        Assert.True(attempts.Length >= 2);
        Assert.True(logical.Events.Count(e => e.Name == "attempt_timed_out") >= 1);
        Assert.Contains(logical.Events, e => e.Name == "deadline_exceeded");
        Assert.Equal(ActivityStatusCode.Error, logical.Status);
        Assert.Equal(typeof(DeadlineExceededException).FullName, logical.GetTagItem("error.type"));
        Assert.Equal("deadline", logical.GetTagItem("http.resilience.outcome"));
    }

    [Fact]
    public async Task OpenCircuit_TheRejectionIsAnEvent()
    {
        await using var server = await LoopbackServer.StartAsync((context, _) =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return Task.CompletedTask;
        });
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.MinimumThroughput = 2;
        });
        var client = clients.Create();
        for (var i = 0; i < 2; i++)
        {
            using var failed = await client.GetAsync("/x");
        }

        Activity root;
        using (root = TestSource.StartActivity("test")!)
        {
            await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync("/x"));
        }

        var (logical, attempts) = TreeOf(root);
        Assert.Empty(attempts); // nothing was sent
        var rejected = Assert.Single(logical.Events, e => e.Name == "circuit_rejected");
        Assert.IsType<double>(rejected.Tags.Single(t => t.Key == "http.resilience.retry_after_ms").Value);
        Assert.Equal("circuit_open", logical.GetTagItem("http.resilience.outcome"));
    }
}
