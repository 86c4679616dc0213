using System.Diagnostics.Metrics;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Http.Resilience.IntegrationTests;

/// <summary>Every instrument of the Http.Resilience meter, observed with MetricCollector on real HTTP scenarios.</summary>
public class MetricsTests
{
    private static ServiceProvider Build(Uri baseAddress, Action<HttpResilienceOptions> configure, string name = "payment")
    {
        var services = new ServiceCollection();
        services.AddHttpClient(name, c => c.BaseAddress = baseAddress).AddHttpResilience(configure);
        return services.BuildServiceProvider();
    }

    private static MetricCollector<T> Collect<T>(IServiceProvider provider, string instrument)
        where T : struct
        => new(provider.GetRequiredService<IMeterFactory>(), "Http.Resilience", instrument);

    [Fact]
    public async Task AttemptDurationAndRetries_CarryOutcomeAttemptNumberAndResult()
    {
        using var server = Mock.Start();
        server.Given(Request.Create().WithPath("/pay").UsingGet()).InScenario("m").WillSetStateTo("up").RespondWith(Response.Create().WithStatusCode(503));
        server.Given(Request.Create().WithPath("/pay").UsingGet()).InScenario("m").WhenStateIs("up").RespondWith(Response.Create().WithBody("ok"));
        using var provider = Build(server.BaseAddress(), o => o.Retry.BaseDelay = TimeSpan.FromMilliseconds(5));
        using var durations = Collect<double>(provider, "http.resilience.attempt.duration");
        using var retries = Collect<long>(provider, "http.resilience.retries");

        using var response = await provider.GetRequiredService<IHttpClientFactory>().CreateClient("payment").GetAsync("/pay");

        var attempts = durations.GetMeasurementSnapshot();
        Assert.Equal(2, attempts.Count);
        Assert.Equal("http_error", attempts[0].Tags["http.resilience.outcome"]);
        Assert.Equal(503, attempts[0].Tags["http.response.status_code"]);
        Assert.Equal("success", attempts[1].Tags["http.resilience.outcome"]);
        Assert.All(attempts, a => Assert.Equal("payment", a.Tags["http.resilience.client.name"]));
        Assert.All(attempts, a => Assert.InRange(a.Value, 0, 10));
        var retry = Assert.Single(retries.GetMeasurementSnapshot());
        Assert.Equal(2, retry.Tags["http.resilience.attempt"]);
        Assert.Equal("success", retry.Tags["http.resilience.result"]);
        Assert.Equal("s", durations.Instrument!.Unit);
    }

    [Fact]
    public async Task TimeoutsAndDeadlineExceeded_AreCounted()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => LoopbackServer.DelayAsync(ctx, TimeSpan.FromSeconds(10)));
        using var provider = Build(server.BaseAddress, o =>
        {
            o.Deadline = TimeSpan.FromMilliseconds(500);
            o.AttemptTimeout = TimeSpan.FromMilliseconds(200);
            o.Retry.BaseDelay = TimeSpan.Zero;
        });
        using var timeouts = Collect<long>(provider, "http.resilience.attempt.timeouts");
        using var deadlines = Collect<long>(provider, "http.resilience.deadline.exceeded");

        await Assert.ThrowsAsync<DeadlineExceededException>(() => provider.GetRequiredService<IHttpClientFactory>().CreateClient("payment").GetAsync("/"));

        Assert.InRange(timeouts.GetMeasurementSnapshot().EvaluateAsCounter(), 1, 3); // 3 on time; fewer only if a timer fires very late
        Assert.Equal(1, deadlines.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task CircuitTripsAndStateGauge()
    {
        using var server = Mock.Start();
        server.Given(Request.Create().WithPath("/pay").UsingGet()).RespondWith(Response.Create().WithStatusCode(500));
        using var provider = Build(server.BaseAddress(), o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.MinimumThroughput = 1;
        });
        using var trips = Collect<long>(provider, "http.resilience.circuit.trips");
        using var state = Collect<int>(provider, "http.resilience.circuit.state");
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("payment");
        state.RecordObservableInstruments();
        Assert.Equal(0, state.LastMeasurement!.Value); // closed

        using (await client.GetAsync("/pay")) { }
        state.RecordObservableInstruments();

        Assert.Equal(1, trips.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, state.LastMeasurement!.Value); // open
        Assert.Equal("payment", state.LastMeasurement.Tags["http.resilience.client.name"]);
    }

    [Fact]
    public async Task BulkheadActiveAndRejections()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(async (ctx, _) =>
        {
            await release.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await ctx.Response.WriteAsync("ok");
        });
        using var provider = Build(server.BaseAddress, o =>
        {
            o.Deadline = o.AttemptTimeout = TimeSpan.FromSeconds(15);
            o.Bulkhead.MaxConcurrency = 1;
        });
        using var active = Collect<int>(provider, "http.resilience.bulkhead.active");
        using var rejected = Collect<long>(provider, "http.resilience.bulkhead.rejections");
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("payment");

        var held = client.GetAsync("/");
        await server.FirstRequestArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<BulkheadRejectedException>(() => client.GetAsync("/"));
        active.RecordObservableInstruments();

        Assert.Equal(1, active.LastMeasurement!.Value);
        Assert.Equal(1, rejected.GetMeasurementSnapshot().EvaluateAsCounter());
        release.SetResult();
        (await held).Dispose();
        active.RecordObservableInstruments();
        Assert.Equal(0, active.LastMeasurement!.Value);
    }

    [Fact]
    public async Task FallbacksFaultsAndRateLimitRejections_AreCountedByKind()
    {
        // Only a body of known length is kept for stale-if-error (a stream is never read ahead), so this server sets it.
        await using var server = await LoopbackServer.StartAsync((ctx, _) =>
        {
            ctx.Response.ContentLength = 3;
            return ctx.Response.WriteAsync("[1]");
        });
        var injectFaults = false;
        using var provider = Build(server.BaseAddress, o =>
        {
            o.Retry.Enabled = false;
            o.Fallback.Enabled = true;
            o.FaultInjection.Enabled = injectFaults;
            o.FaultInjection.FailureRate = 1;
            o.FaultInjection.FailureStatusCode = 503;
        });
        using var fallbacks = Collect<long>(provider, "http.resilience.fallbacks");
        using var faults = Collect<long>(provider, "http.resilience.faults.injected");
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("payment");
        Assert.Equal("[1]", await client.GetStringAsync("/items"));

        injectFaults = true;
        provider.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitorCache<HttpResilienceOptions>>().TryRemove("payment");
        using var stale = await client.GetAsync("/items");

        Assert.Equal(FallbackKind.Stale, stale.GetFallbackInfo()!.Value.Kind);
        Assert.Equal("[1]", await stale.Content.ReadAsStringAsync());
        var fallback = Assert.Single(fallbacks.GetMeasurementSnapshot());
        Assert.Equal("stale", fallback.Tags["http.resilience.fallback.kind"]);
        Assert.Equal("status_code", Assert.Single(faults.GetMeasurementSnapshot()).Tags["error.type"]);
        Assert.Equal(1, server.Hits);

        using var limited = Build(server.BaseAddress, o =>
        {
            o.RateLimit.Enabled = true;
            o.RateLimit.TokenLimit = 1;
            o.RateLimit.ReplenishmentPeriod = TimeSpan.FromMinutes(10);
            o.RateLimit.MaxQueue = 0;
        }, "catalog");
        using var rateLimited = Collect<long>(limited, "http.resilience.rate_limit.rejections");
        var catalog = limited.GetRequiredService<IHttpClientFactory>().CreateClient("catalog");
        (await catalog.GetAsync("/items")).Dispose();
        await Assert.ThrowsAsync<RateLimitRejectedException>(() => catalog.GetAsync("/items"));
        Assert.Equal(1, rateLimited.GetMeasurementSnapshot().EvaluateAsCounter());
    }
}
