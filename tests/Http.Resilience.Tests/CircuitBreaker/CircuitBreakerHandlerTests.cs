using System.Net;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.Tests;

public class CircuitBreakerHandlerTests
{
    private static ChainHarness Create(Action<HttpResilienceOptions>? configure = null, double jitter = 0)
        => new(o =>
        {
            o.Retry.BaseDelay = TimeSpan.Zero;
            o.CircuitBreaker.MinimumThroughput = 5;
            o.CircuitBreaker.FailureRatio = 0.5;
            configure?.Invoke(o);
        }, jitter: jitter);

    private static CircuitStateController Circuit(ChainHarness h) => h.Registry.GetOrAddCircuit(ChainHarness.ClientName, null);

    [Fact]
    public async Task TwoRequestsWithThreeAttemptsEach_DoNotOpenAFiveRequestBreaker()
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.InternalServerError);
        var client = h.CreateClient();

        using (await client.GetAsync("/"))
        using (await client.GetAsync("/"))
        {
        }

        Assert.Equal(6, h.Stub.CallCount); // six failed attempts...
        Assert.Equal(new HealthInfo(2, 2), Circuit(h).GetHealth()); // ...but two logical failures
        Assert.Equal(CircuitState.Closed, Circuit(h).State);
    }

    [Fact]
    public async Task SendAsync_Open_FailsFastWithoutCallingTheDependency()
    {
        using var h = Create(o => o.Retry.Enabled = false);
        h.Stub.ThenStatus(HttpStatusCode.BadGateway);
        var client = h.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            using var _ = await client.GetAsync("/");
        }

        h.Clock.Advance(TimeSpan.FromSeconds(1));
        var ex = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync("/"));

        Assert.Equal(5, h.Stub.CallCount);
        Assert.Equal(TimeSpan.FromSeconds(0.5), ex.RetryAfter); // the first break: 3 s, equal-jittered to 1.5 s by the pinned jitter
        Assert.Contains("'test'", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<HttpRequestException>(ex);
    }

    [Fact]
    public async Task SendAsync_AfterBreak_ProbeSuccessClosesTheCircuit()
    {
        using var h = Create(o => o.Retry.Enabled = false);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.ServiceUnavailable)
            .ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.OK);
        var client = h.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            using var _ = await client.GetAsync("/");
        }

        h.Clock.Advance(TimeSpan.FromSeconds(30));
        using var probe = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        Assert.Equal(CircuitState.Closed, Circuit(h).State);
    }

    [Fact]
    public async Task SendAsync_ProbeCancelledByCaller_ReopensTheCircuit()
    {
        using var h = Create(o => o.Retry.Enabled = false);
        Circuit(h); // created before traffic, as CreateClient does
        h.Stub.ThenStatus(HttpStatusCode.InternalServerError).ThenStatus(HttpStatusCode.InternalServerError).ThenStatus(HttpStatusCode.InternalServerError)
            .ThenStatus(HttpStatusCode.InternalServerError).ThenStatus(HttpStatusCode.InternalServerError).ThenHang();
        var client = h.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            using var _ = await client.GetAsync("/");
        }

        h.Clock.Advance(TimeSpan.FromSeconds(1.5));
        using var cts = new CancellationTokenSource();
        var probe = client.GetAsync("/", cts.Token);
        await h.Stub.WaitForCallsAsync(6);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => probe);
        Assert.Equal(CircuitState.Open, Circuit(h).State);
        Assert.Equal(TimeSpan.FromSeconds(3), Circuit(h).RetryAfter); // the second break: doubled to 6 s, equal-jittered to 3 s
    }

    [Fact]
    public async Task SendAsync_CircuitOpensWhileRequestIsBetweenAttempts_RetryStopsWithItsLastResponse()
    {
        using var h = Create(
            o =>
            {
                o.Retry.BaseDelay = TimeSpan.FromSeconds(1);
                o.CircuitBreaker.MinimumThroughput = 1;
            },
            jitter: 0.5);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.NotImplemented).ThenStatus(HttpStatusCode.OK);
        var client = h.CreateClient();

        var first = client.GetAsync("/a");
        Assert.Equal(TimeSpan.FromMilliseconds(500), await h.Clock.NextTimerAsync()); // backoff
        using (var second = await client.GetAsync("/b"))
        {
            Assert.Equal(HttpStatusCode.NotImplemented, second.StatusCode); // a 5xx: one logical failure opens it
        }

        Assert.Equal(CircuitState.Open, Circuit(h).State);
        h.Clock.Advance(TimeSpan.FromMilliseconds(500));

        using var response = await first;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.False(((TrackingContent)response.Content).IsDisposed);
        Assert.Equal(2, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_SlowSuccess_CountsAsFailure()
    {
        using var h = Create(o =>
        {
            o.CircuitBreaker.MinimumThroughput = 1;
            o.CircuitBreaker.SlowCallDuration = TimeSpan.FromSeconds(1);
        });
        h.Stub.Then(async (_, ct) =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(1500), h.Clock, ct);
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        var send = h.CreateClient().GetAsync("/");
        await h.Stub.WaitForCallsAsync(1);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), await h.Clock.NextTimerAsync()); // the stub's own delay
        Assert.Equal(TimeSpan.FromSeconds(2), await h.Clock.NextTimerAsync()); // the attempt's, armed once the attempt waits
        h.Clock.Advance(TimeSpan.FromMilliseconds(1500));

        using var response = await send;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(CircuitState.Open, Circuit(h).State);
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 1)]
    public async Task SendAsync_429_CountsOnlyWhenAsked(bool countAsFailure, int expectedFailures)
    {
        using var h = Create(o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.CountTooManyRequestsAsFailure = countAsFailure;
        });
        h.Stub.ThenStatus(HttpStatusCode.TooManyRequests);

        using var _ = await h.CreateClient().GetAsync("/");

        Assert.Equal(expectedFailures, Circuit(h).GetHealth().Failures);
        Assert.Equal(expectedFailures, Circuit(h).GetHealth().Requests);
    }

    [Fact]
    public async Task SendAsync_4xxCountsAsSuccessAndCallerCancellationIsNotCounted()
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.NotFound).ThenHang();
        var client = h.CreateClient();
        using (await client.GetAsync("/"))
        {
        }

        using var cts = new CancellationTokenSource();
        var cancelled = client.GetAsync("/", cts.Token);
        await h.Stub.WaitForCallsAsync(2);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        Assert.Equal(new HealthInfo(1, 0), Circuit(h).GetHealth());
    }

    [Fact]
    public async Task SendAsync_DeadlineSpent_CountsAsOneFailure()
    {
        using var h = Create(o => o.Deadline = o.AttemptTimeout = TimeSpan.FromSeconds(1));
        h.Stub.ThenHang();
        var send = h.CreateClient().GetAsync("/");
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromSeconds(1));

        await Assert.ThrowsAsync<DeadlineExceededException>(() => send);
        Assert.Equal(new HealthInfo(1, 1), Circuit(h).GetHealth());
    }

    [Fact]
    public async Task SendAsync_PerAuthority_EachAuthorityHasItsOwnCircuit()
    {
        using var h = Create(o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.PerAuthority = true;
            o.CircuitBreaker.MinimumThroughput = 1;
        });
        h.Stub.ThenStatus(HttpStatusCode.InternalServerError).ThenStatus(HttpStatusCode.OK);
        var client = h.CreateClient();

        using (await client.GetAsync("http://127.0.0.1:5001/")) { }
        using var other = await client.GetAsync("http://127.0.0.1:5002/");

        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync("http://127.0.0.1:5001/x"));
        var circuits = h.Services.GetRequiredService<IHttpResilienceMonitor>().GetCircuitBreakers();
        Assert.Contains(circuits, c => c.Authority == "http://127.0.0.1:5001" && c.State == CircuitState.Open);
        Assert.Contains(circuits, c => c.Authority == "http://127.0.0.1:5002" && c.State == CircuitState.Closed);
    }

    [Fact]
    public async Task Monitor_ReportsStateAndRaisesChanges()
    {
        using var h = Create(o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.MinimumThroughput = 1;
        });
        var monitor = h.Services.GetRequiredService<IHttpResilienceMonitor>();
        var changes = new List<OnCircuitStateChangedArguments>();
        monitor.CircuitStateChanged += (_, e) => changes.Add(e);
        monitor.CircuitStateChanged += (_, _) => throw new InvalidOperationException("a buggy subscriber must not break requests");
        h.Stub.ThenStatus(HttpStatusCode.InternalServerError);
        var client = h.CreateClient();
        Assert.Equal(CircuitState.Closed, Assert.Single(monitor.GetCircuitBreakers()).State);

        using var response = await client.GetAsync("/");

        var snapshot = Assert.Single(monitor.GetCircuitBreakers());
        Assert.Equal(CircuitState.Open, snapshot.State);
        Assert.Equal(ChainHarness.ClientName, snapshot.ClientName);
        Assert.Equal(TimeSpan.FromSeconds(1.5), snapshot.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(1.5), snapshot.BreakDuration);
        Assert.Equal("first break", snapshot.BreakReason);
        var change = Assert.Single(changes);
        Assert.Equal(CircuitState.Closed, change.PreviousState);
        Assert.Equal(CircuitState.Open, change.State);
        Assert.Equal(1.0, change.FailureRatio);
    }

    [Fact]
    public async Task SendAsync_Disabled_NeverOpens()
    {
        using var h = Create(o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.Enabled = false;
            o.CircuitBreaker.MinimumThroughput = 1;
        });
        h.Stub.ThenStatus(HttpStatusCode.InternalServerError);
        var client = h.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            using var _ = await client.GetAsync("/");
        }

        Assert.Equal(3, h.Stub.CallCount);
        Assert.Empty(h.Services.GetRequiredService<IHttpResilienceMonitor>().GetCircuitBreakers());
    }
}
