using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Http.Resilience.Benchmarks;

/// <summary>An in-memory primary handler: the numbers are the handlers' own cost, not the network's.</summary>
internal sealed class InMemoryHandler(Func<HttpRequestMessage, HttpStatusCode> status) : HttpMessageHandler
{
    private static readonly TaskCompletionSource<HttpResponseMessage> Never = new();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        => request.RequestUri!.AbsolutePath == "/hang"
            ? Never.Task.WaitAsync(cancellationToken)
            : Task.FromResult(new HttpResponseMessage(status(request)) { RequestMessage = request });
}

/// <summary>The four contenders, each built through IHttpClientFactory over the same in-memory handler.</summary>
internal static class Clients
{
    public const string Bare = "bare";
    public const string Ours = "ours";
    public const string Microsoft = "ms-standard";
    public const string Polly = "polly";

    public static (ServiceProvider Provider, IHttpClientFactory Factory) Build(
        Func<HttpRequestMessage, HttpStatusCode> status,
        Action<HttpResilienceOptions>? ours = null,
        Action<HttpStandardResilienceOptions>? microsoft = null,
        int concurrency = 100,
        int circuitMinimumThroughput = 100,
        double circuitFailureRatio = 0.5,
        TimeSpan? pollyTimeout = null)
    {
        var services = new ServiceCollection();
        HttpMessageHandler Primary() => new InMemoryHandler(status);
        var baseAddress = new Uri("http://127.0.0.1/");
        services.AddHttpClient(Bare, c => c.BaseAddress = baseAddress).ConfigurePrimaryHttpMessageHandler(Primary);
        services.AddHttpClient(Ours, c => c.BaseAddress = baseAddress).ConfigurePrimaryHttpMessageHandler(Primary)
            .AddHttpResilience(o => ours?.Invoke(o));
        services.AddHttpClient(Microsoft, c => c.BaseAddress = baseAddress).ConfigurePrimaryHttpMessageHandler(Primary)
            .AddStandardResilienceHandler(o => microsoft?.Invoke(o));

        // The equivalent hand-built Polly v8 pipeline: concurrency limiter -> circuit -> retry -> timeout.
        services.AddHttpClient(Polly, c => c.BaseAddress = baseAddress).ConfigurePrimaryHttpMessageHandler(Primary)
            .AddResilienceHandler("polly", pipeline => pipeline
                .AddConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = concurrency, QueueLimit = 0 })
                .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions { MinimumThroughput = circuitMinimumThroughput, FailureRatio = circuitFailureRatio, SamplingDuration = TimeSpan.FromSeconds(30), BreakDuration = TimeSpan.FromSeconds(30) })
                .AddRetry(new HttpRetryStrategyOptions { MaxRetryAttempts = 2, Delay = TimeSpan.Zero, BackoffType = DelayBackoffType.Exponential, UseJitter = true })
                .AddTimeout(pollyTimeout ?? TimeSpan.FromSeconds(2)));
        var provider = services.BuildServiceProvider();
        return (provider, provider.GetRequiredService<IHttpClientFactory>());
    }
}
