using System.Net;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.Benchmarks;

/// <summary>
/// The cases side by side in one run, by category: the floor (one exception through a bare client); a happy GET, a 503
/// then 200 and a POST, each with the bare client, our chain and both peers; an open-circuit and a full-bulkhead
/// rejection with our chain and both peers; a happy GET with hedging on (bare, ours, Microsoft's hedging handler); and
/// a happy GET traced and with per-request settings (bare and ours).
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ChainBenchmarks
{
    private ServiceProvider _happyProvider = null!;
    private HttpClient _bare = null!, _ours = null!, _ms = null!, _polly = null!;

    private ServiceProvider _retryProvider = null!;
    private HttpClient _retryOurs = null!, _retryMs = null!, _retryPolly = null!;

    private ServiceProvider _openProvider = null!;
    private HttpClient _openOurs = null!, _openMs = null!, _openPolly = null!;

    private ServiceProvider _throwProvider = null!;
    private HttpClient _throwBare = null!;

    private ServiceProvider _hedgeProvider = null!;
    private HttpClient _hedgeOurs = null!, _hedgeMs = null!;

    private ServiceProvider _fullProvider = null!;
    private HttpClient _fullOurs = null!, _fullMs = null!, _fullPolly = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        (_happyProvider, var happy) = Clients.Build(_ => HttpStatusCode.OK, ours: o => o.Retry.BaseDelay = TimeSpan.Zero);
        (_bare, _ours, _ms, _polly) = (happy.CreateClient(Clients.Bare), happy.CreateClient(Clients.Ours), happy.CreateClient(Clients.Microsoft), happy.CreateClient(Clients.Polly));

        // Hedging on, answers within the delay: what hedging costs a request that needs no hedge.
        var hedging = new ServiceCollection();
        hedging.AddHttpClient("hedge-ours", c => c.BaseAddress = new Uri("http://127.0.0.1/"))
            .ConfigurePrimaryHttpMessageHandler(() => new InMemoryHandler(_ => HttpStatusCode.OK))
            .AddHttpResilience(o =>
            {
                o.Hedging.Enabled = true;
                o.Hedging.Delay = TimeSpan.FromSeconds(2);
            });
        hedging.AddHttpClient("hedge-ms", c => c.BaseAddress = new Uri("http://127.0.0.1/"))
            .ConfigurePrimaryHttpMessageHandler(() => new InMemoryHandler(_ => HttpStatusCode.OK))
            .AddStandardHedgingHandler();
        _hedgeProvider = hedging.BuildServiceProvider();
        _hedgeOurs = _hedgeProvider.GetRequiredService<IHttpClientFactory>().CreateClient("hedge-ours");
        _hedgeMs = _hedgeProvider.GetRequiredService<IHttpClientFactory>().CreateClient("hedge-ms");

        // 503 then 200, for every logical request: each handler chain alternates on its own.
        var flip = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        (_retryProvider, var retry) = Clients.Build(
            r => flip.AddOrUpdate(r.Headers.Host ?? "x", true, (_, last) => !last) ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK,
            ours: o => o.Retry.BaseDelay = TimeSpan.Zero,
            microsoft: o =>
            {
                o.Retry.Delay = TimeSpan.Zero;
                o.CircuitBreaker.FailureRatio = 1.0; // the peers count attempts (half fail here): keep their circuits closed
            },
            circuitFailureRatio: 1.0);
        _retryOurs = retry.CreateClient(Clients.Ours);
        _retryMs = retry.CreateClient(Clients.Microsoft);
        _retryPolly = retry.CreateClient(Clients.Polly);
        _retryOurs.DefaultRequestHeaders.Host = "ours";
        _retryMs.DefaultRequestHeaders.Host = "ms";
        _retryPolly.DefaultRequestHeaders.Host = "polly";

        // The floor of any rejection: one exception out of the primary handler, through a bare HttpClient.
        var throwing = new ServiceCollection();
        throwing.AddHttpClient("throw", c => c.BaseAddress = new Uri("http://127.0.0.1/"))
            .ConfigurePrimaryHttpMessageHandler(() => new ThrowingHandler());
        _throwProvider = throwing.BuildServiceProvider();
        _throwBare = _throwProvider.GetRequiredService<IHttpClientFactory>().CreateClient("throw");

        // Circuits opened in setup: every call fails until each breaker trips.
        (_openProvider, var open) = Clients.Build(
            _ => HttpStatusCode.InternalServerError,
            ours: o =>
            {
                o.Retry.Enabled = false;
                o.CircuitBreaker.MinimumThroughput = 2;
            },
            microsoft: o =>
            {
                o.Retry.MaxRetryAttempts = 1;
                o.Retry.Delay = TimeSpan.Zero;
                o.CircuitBreaker.MinimumThroughput = 2;
            },
            circuitMinimumThroughput: 2);
        (_openOurs, _openMs, _openPolly) = (open.CreateClient(Clients.Ours), open.CreateClient(Clients.Microsoft), open.CreateClient(Clients.Polly));
        foreach (var client in new[] { _openOurs, _openMs, _openPolly })
        {
            for (var i = 0; i < 5; i++)
            {
                await Rejected(client);
            }
        }

        // Bulkheads full in setup: one request hangs inside each limit of 1.
        (_fullProvider, var full) = Clients.Build(
            _ => HttpStatusCode.OK,
            ours: o =>
            {
                o.Bulkhead.MaxConcurrency = 1;
                o.Deadline = o.AttemptTimeout = TimeSpan.FromHours(1);
            },
            microsoft: o =>
            {
                o.RateLimiter.DefaultRateLimiterOptions.PermitLimit = 1;
                o.RateLimiter.DefaultRateLimiterOptions.QueueLimit = 0;
                o.TotalRequestTimeout.Timeout = TimeSpan.FromHours(2);
                o.AttemptTimeout.Timeout = TimeSpan.FromHours(1);
                o.CircuitBreaker.SamplingDuration = TimeSpan.FromHours(2);
            },
            concurrency: 1,
            pollyTimeout: TimeSpan.FromHours(1));
        (_fullOurs, _fullMs, _fullPolly) = (full.CreateClient(Clients.Ours), full.CreateClient(Clients.Microsoft), full.CreateClient(Clients.Polly));
        foreach (var client in new[] { _fullOurs, _fullMs, _fullPolly })
        {
            client.Timeout = Timeout.InfiniteTimeSpan;
            _ = client.GetAsync("hang");
        }
    }

    private System.Diagnostics.ActivityListener? _tracing;

    /// <summary>The traced cases: the same clients, with a listener that records every span of ours and of HttpClient.</summary>
    [GlobalSetup(Targets = [nameof(TracedBare), nameof(TracedOurs)])]
    public async Task SetupTraced()
    {
        await Setup();
        _tracing = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = static source => source.Name is "Http.Resilience" or "System.Net.Http",
            Sample = static (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(_tracing);
    }

    [GlobalCleanup(Targets = [nameof(TracedBare), nameof(TracedOurs)])]
    public void CleanupTraced()
    {
        _tracing?.Dispose(); // the other cases run without a listener, as most services do
        Cleanup();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _happyProvider.Dispose();
        _hedgeProvider.Dispose();
        _throwProvider.Dispose();
        _retryProvider.Dispose();
        _openProvider.Dispose();
        _fullProvider.Dispose();
    }

    private static async Task Rejected(HttpClient client)
    {
        try
        {
            using var response = await client.GetAsync("x");
        }
        catch (Exception)
        {
            // the rejection we are measuring (CircuitOpenException, BrokenCircuitException, RateLimiterRejectedException, ...)
        }
    }

    private static async Task Get(HttpClient client)
    {
        using var response = await client.GetAsync("x");
    }

    private static async Task GetWithSettings(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "x");
        request.SetResilienceDeadline(TimeSpan.FromSeconds(5));
        request.SetResilienceMaxRetries(0);
        using var response = await client.SendAsync(request);
    }

    private static async Task Post(HttpClient client)
    {
        using var response = await client.PostAsync("x", new StringContent("{\"amount\":42}"));
    }

    [BenchmarkCategory("1 happy GET"), Benchmark(Baseline = true)]
    public Task HappyBare() => Get(_bare);

    [BenchmarkCategory("1 happy GET"), Benchmark]
    public Task HappyOurs() => Get(_ours);

    [BenchmarkCategory("1 happy GET"), Benchmark]
    public Task HappyMicrosoftStandard() => Get(_ms);

    [BenchmarkCategory("1 happy GET"), Benchmark]
    public Task HappyPolly() => Get(_polly);

    [BenchmarkCategory("2 retry then success"), Benchmark(Baseline = true)]
    public Task RetryBare() => Get(_bare);

    [BenchmarkCategory("2 retry then success"), Benchmark]
    public Task RetryOurs() => Get(_retryOurs);

    [BenchmarkCategory("2 retry then success"), Benchmark]
    public Task RetryMicrosoftStandard() => Get(_retryMs);

    [BenchmarkCategory("2 retry then success"), Benchmark]
    public Task RetryPolly() => Get(_retryPolly);

    [BenchmarkCategory("0 floor: one exception through a bare HttpClient"), Benchmark]
    public Task ExceptionFloorBare() => Rejected(_throwBare);

    [BenchmarkCategory("3 open-circuit rejection"), Benchmark]
    public Task OpenCircuitOurs() => Rejected(_openOurs);

    [BenchmarkCategory("3 open-circuit rejection"), Benchmark(Baseline = true)]
    public Task OpenCircuitMicrosoftStandard() => Rejected(_openMs);

    [BenchmarkCategory("3 open-circuit rejection"), Benchmark]
    public Task OpenCircuitPolly() => Rejected(_openPolly);

    [BenchmarkCategory("4 bulkhead rejection"), Benchmark]
    public Task BulkheadOurs() => Rejected(_fullOurs);

    [BenchmarkCategory("4 bulkhead rejection"), Benchmark(Baseline = true)]
    public Task BulkheadMicrosoftStandard() => Rejected(_fullMs);

    [BenchmarkCategory("4 bulkhead rejection"), Benchmark]
    public Task BulkheadPolly() => Rejected(_fullPolly);

    [BenchmarkCategory("5 POST with idempotency key"), Benchmark(Baseline = true)]
    public Task PostBare() => Post(_bare);

    [BenchmarkCategory("5 POST with idempotency key"), Benchmark]
    public Task PostOurs() => Post(_ours);

    [BenchmarkCategory("5 POST with idempotency key"), Benchmark]
    public Task PostMicrosoftStandard() => Post(_ms);

    [BenchmarkCategory("5 POST with idempotency key"), Benchmark]
    public Task PostPolly() => Post(_polly);

    /// <summary>A primary handler that fails at once, as a rejection does: the cost floor of surfacing one exception.</summary>
    private sealed class ThrowingHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            => throw new HttpRequestException("rejected");
    }

    [BenchmarkCategory("6 happy GET, hedging on"), Benchmark(Baseline = true)]
    public Task HedgingBare() => Get(_bare);

    [BenchmarkCategory("6 happy GET, hedging on"), Benchmark]
    public Task HedgingOurs() => Get(_hedgeOurs);

    [BenchmarkCategory("6 happy GET, hedging on"), Benchmark]
    public Task HedgingMicrosoftStandard() => Get(_hedgeMs);

    [BenchmarkCategory("7 happy GET, traced"), Benchmark(Baseline = true)]
    public Task TracedBare() => Get(_bare);

    [BenchmarkCategory("7 happy GET, traced"), Benchmark]
    public Task TracedOurs() => Get(_ours);

    [BenchmarkCategory("8 happy GET, per-request settings"), Benchmark(Baseline = true)]
    public Task PerRequestBare() => Get(_bare);

    /// <summary>Ours, with a request that sets its own deadline and retry count: what using the settings costs.</summary>
    [BenchmarkCategory("8 happy GET, per-request settings"), Benchmark]
    public Task PerRequestOurs() => GetWithSettings(_ours);
}
