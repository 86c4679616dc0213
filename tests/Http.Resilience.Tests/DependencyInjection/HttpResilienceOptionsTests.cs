using System.Net;
using System.Text;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Http.Resilience.Tests;

public class HttpResilienceOptionsTests
{
    [Fact]
    public void MaxBreakDuration_Unset_FollowsALongerFirstBreak_SoAnOldConfigurationStaysValid()
    {
        var o = new HttpResilienceOptions();
        o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(90); // set before the break adapted, when it was the only break

        Assert.Equal(TimeSpan.FromSeconds(90), o.CircuitBreaker.MaxBreakDuration);
        Assert.True(new HttpResilienceOptionsValidator().Validate("x", o).Succeeded);

        o.CircuitBreaker.MaxBreakDuration = TimeSpan.FromSeconds(60); // set explicitly below it: a mistake, reported
        Assert.Contains("CircuitBreaker.MaxBreakDuration", new HttpResilienceOptionsValidator().Validate("x", o).FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_MatchTheDesignTable()
    {
        var o = new HttpResilienceOptions();

        Assert.Equal(TimeSpan.FromSeconds(10), o.Deadline);
        Assert.Equal(TimeSpan.FromSeconds(2), o.AttemptTimeout);
        Assert.True(o.Retry.Enabled);
        Assert.Equal(2, o.Retry.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(200), o.Retry.BaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(5), o.Retry.MaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), o.Retry.MaxRetryAfter);
        Assert.Equal(1024 * 1024, o.Retry.MaxRequestBufferBytes);
        Assert.True(o.CircuitBreaker.Enabled);
        Assert.Equal(0.5, o.CircuitBreaker.FailureRatio);
        Assert.Equal(10, o.CircuitBreaker.MinimumThroughput);
        Assert.Equal(TimeSpan.FromSeconds(30), o.CircuitBreaker.SamplingDuration);
        Assert.Equal(TimeSpan.FromSeconds(3), o.CircuitBreaker.BreakDuration);
        Assert.Equal(TimeSpan.FromSeconds(60), o.CircuitBreaker.MaxBreakDuration);
        Assert.Equal(TimeSpan.FromSeconds(5), o.CircuitBreaker.RampUp);
        Assert.Null(o.CircuitBreaker.SlowCallDuration);
        Assert.Equal(1000, o.CircuitBreaker.MaxAuthorities);
        Assert.Equal(1000, o.Bulkhead.MaxAuthorities);
        Assert.True(o.Bulkhead.Enabled);
        Assert.Equal(100, o.Bulkhead.MaxConcurrency);
        Assert.Equal(0, o.Bulkhead.MaxQueue);
        Assert.Equal(Timeout.InfiniteTimeSpan, o.Bulkhead.MaxQueueWait);
        Assert.True(o.Idempotency.Enabled);
        Assert.Equal("Idempotency-Key", o.Idempotency.HeaderName);
        Assert.True(o.Pushback.KeepWithinQuota);
        Assert.False(o.Pushback.Gate);
        Assert.True(new HttpResilienceOptionsValidator().Validate("x", o).Succeeded);
    }

    public static TheoryData<string, Action<HttpResilienceOptions>> InvalidOptions => new()
    {
        { "Deadline", o => o.Deadline = TimeSpan.Zero },
        { "Deadline", o => o.Deadline = TimeSpan.FromSeconds(-3) },
        { "Deadline", o => o.Deadline = TimeSpan.FromDays(2) },
        { "AttemptTimeout", o => o.AttemptTimeout = TimeSpan.FromMilliseconds(-5) },
        { "AttemptTimeout", o => o.AttemptTimeout = TimeSpan.FromSeconds(11) },
        { "Retry.MaxRetries", o => o.Retry.MaxRetries = -1 },
        { "Retry.MaxRetries", o => o.Retry.MaxRetries = 101 },
        { "Retry.BaseDelay", o => o.Retry.BaseDelay = TimeSpan.FromSeconds(-1) },
        { "Retry.MaxDelay", o => o.Retry.MaxDelay = TimeSpan.FromMilliseconds(100) },
        { "Retry.MaxRetryAfter", o => o.Retry.MaxRetryAfter = TimeSpan.FromSeconds(-1) },
        { "Retry.MaxRequestBufferBytes", o => o.Retry.MaxRequestBufferBytes = -1 },
        { "Retry", o => o.Retry = null! },
        { "Retry.Budget.Ratio", o => o.Retry.Budget.Ratio = -0.1 },
        { "Retry.Budget.Ratio", o => o.Retry.Budget.Ratio = double.NaN },
        { "Retry.Budget.MinRetriesPerSecond", o => o.Retry.Budget.MinRetriesPerSecond = -1 },
        { "Retry.Budget.Window", o => o.Retry.Budget.Window = TimeSpan.FromMilliseconds(500) },
        { "RetryPropagation.AttemptHeaderName", o => o.RetryPropagation.AttemptHeaderName = "Host" },
        { "Pushback.ShouldRetryHeaders", o => o.Pushback.ShouldRetryHeaders = ["Bad Header"] },
        { "AdaptiveThrottling.K", o => o.AdaptiveThrottling.K = 0.5 },
        { "AdaptiveThrottling.Window", o => o.AdaptiveThrottling.Window = TimeSpan.Zero },
        { "CircuitBreaker.FailureRatio", o => o.CircuitBreaker.FailureRatio = 0 },
        { "CircuitBreaker.FailureRatio", o => o.CircuitBreaker.FailureRatio = 1.5 },
        { "CircuitBreaker.FailureRatio", o => o.CircuitBreaker.FailureRatio = double.NaN },
        { "CircuitBreaker.MinimumThroughput", o => o.CircuitBreaker.MinimumThroughput = 0 },
        { "CircuitBreaker.SamplingDuration", o => o.CircuitBreaker.SamplingDuration = TimeSpan.FromMilliseconds(10) },
        { "CircuitBreaker.BreakDuration", o => o.CircuitBreaker.BreakDuration = TimeSpan.Zero },
        { "CircuitBreaker.MaxBreakDuration", o => o.CircuitBreaker.MaxBreakDuration = TimeSpan.Zero },
        { "CircuitBreaker.MaxBreakDuration", o => o.CircuitBreaker.MaxBreakDuration = TimeSpan.FromSeconds(2) }, // shorter than the first break
        { "CircuitBreaker.MaxBreakDuration", o => o.CircuitBreaker.MaxBreakDuration = TimeSpan.FromDays(2) },
        { "CircuitBreaker.RampUp", o => o.CircuitBreaker.RampUp = TimeSpan.FromSeconds(-1) },
        { "CircuitBreaker.RampUp", o => o.CircuitBreaker.RampUp = TimeSpan.FromDays(2) },
        { "CircuitBreaker.SlowCallDuration", o => o.CircuitBreaker.SlowCallDuration = TimeSpan.FromSeconds(-1) },
        { "CircuitBreaker.MaxAuthorities", o => o.CircuitBreaker.MaxAuthorities = 0 },
        { "CircuitBreaker.MaxAuthorities", o => o.CircuitBreaker.MaxAuthorities = 1_000_001 },
        { "Bulkhead.MaxConcurrency", o => o.Bulkhead.MaxConcurrency = 0 },
        { "Bulkhead.MaxAuthorities", o => o.Bulkhead.MaxAuthorities = 0 },
        { "Bulkhead.MaxQueue", o => o.Bulkhead.MaxQueue = -1 },
        { "Bulkhead.MaxQueueWait", o => o.Bulkhead.MaxQueueWait = TimeSpan.Zero },
        { "Idempotency.HeaderName", o => o.Idempotency.HeaderName = "" },
        { "Idempotency.HeaderName", o => o.Idempotency.HeaderName = "Idempotency Key" },
        { "Idempotency.HeaderName", o => o.Idempotency.HeaderName = "Key:" },
        { "Idempotency.HeaderName", o => o.Idempotency.HeaderName = "Content-Type" },
        { "Idempotency.HeaderName", o => o.Idempotency.HeaderName = "Host" },
        { "Idempotency.HeaderName", o => o.Idempotency.HeaderName = "authorization" },
        { "RateLimit.TokenLimit", o => o.RateLimit.TokenLimit = 0 },
        { "RateLimit.TokensPerPeriod", o => o.RateLimit.TokensPerPeriod = 0 },
        { "RateLimit.ReplenishmentPeriod", o => o.RateLimit.ReplenishmentPeriod = TimeSpan.Zero },
        { "RateLimit.MaxQueue", o => o.RateLimit.MaxQueue = -1 },
        { "Fallback.MaxStaleness", o => o.Fallback.MaxStaleness = TimeSpan.Zero },
        { "Fallback.MaxEntries", o => o.Fallback.MaxEntries = 0 },
        { "Fallback.MaxBytes", o => o.Fallback.MaxBytes = 0 },
        { "Fallback.MaxEntryBytes", o => o.Fallback.MaxEntryBytes = o.Fallback.MaxBytes + 1 },
        { "FaultInjection.FailureRate", o => o.FaultInjection.FailureRate = 1.5 },
        { "FaultInjection.LatencyRate", o => o.FaultInjection.LatencyRate = -0.1 },
        { "FaultInjection.FailureStatusCode", o => o.FaultInjection.FailureStatusCode = 42 },
        { "FaultInjection.Latency", o => o.FaultInjection.Latency = TimeSpan.FromSeconds(-1) },
        { "Hedging.MaxHedgedAttempts", o => o.Hedging.MaxHedgedAttempts = 0 },
        { "Hedging.MaxHedgedAttempts", o => o.Hedging.MaxHedgedAttempts = 11 },
        { "Hedging.Delay", o => o.Hedging.Delay = TimeSpan.FromMilliseconds(-1) },
        { "Hedging.Percentile", o => o.Hedging.Percentile = 49 },
        { "Hedging.Percentile", o => o.Hedging.Percentile = 100 },
        { "Hedging.Percentile", o => o.Hedging.Percentile = double.NaN },
        { "Hedging.MinDelay", o => o.Hedging.MinDelay = TimeSpan.FromDays(2) },
        { "Hedging", o => o.Hedging = null! },
        { "ResponseBuffering.MaxBytes", o => o.ResponseBuffering.MaxBytes = 0 },
        { "ResponseBuffering.MaxBytes", o => o.ResponseBuffering.MaxBytes = long.MaxValue },
        { "ResponseBuffering.MaxBytes", o => o.ResponseBuffering.MaxBytes = Array.MaxLength }, // one more byte is read than the cap
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void CreateClient_InvalidOption_FailsNamingClientFieldAndRule(string field, Action<HttpResilienceOptions> breakIt)
    {
        using var h = new ChainHarness(breakIt);

        var ex = Assert.Throws<OptionsValidationException>(() => h.CreateClient());

        Assert.Equal(ChainHarness.ClientName, ex.OptionsName);
        Assert.Contains("HttpClient 'test'", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"'{field}' must", ex.Message, StringComparison.Ordinal);
        Assert.Contains("(was '", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_InfiniteDeadlineAndAttemptTimeout_AreAllowed()
    {
        var o = new HttpResilienceOptions { Deadline = Timeout.InfiniteTimeSpan, AttemptTimeout = Timeout.InfiniteTimeSpan };
        Assert.True(new HttpResilienceOptionsValidator().Validate("x", o).Succeeded);
        o.AttemptTimeout = TimeSpan.FromSeconds(30); // finite attempt under an infinite deadline
        Assert.True(new HttpResilienceOptionsValidator().Validate("x", o).Succeeded);
    }

    [Fact]
    public async Task SendAsync_InvalidOptions_FailsOnFirstRequestToo()
    {
        using var h = new ChainHarness(o => o.Retry.MaxRetries = -1);
        var invoker = new HttpMessageInvoker(h.Services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(ChainHarness.ClientName));

        await Assert.ThrowsAsync<OptionsValidationException>(() => invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1/"), default));
    }

    [Fact]
    public void Bind_DesignShapedSection_BindsEveryField()
    {
        const string json = """
        {
          "HttpResilience": {
            "test": {
              "Deadline": "00:00:05",
              "AttemptTimeout": "00:00:01.500",
              "Retry":          { "MaxRetries": 3, "BaseDelay": "00:00:00.100", "MaxDelay": "00:00:02", "MaxRetryAfter": "00:00:04", "MaxRequestBufferBytes": 2048 },
              "CircuitBreaker": { "FailureRatio": 0.25, "MinimumThroughput": 20, "SamplingDuration": "00:01:00", "BreakDuration": "00:00:15", "SlowCallDuration": "00:00:03" },
              "Bulkhead":       { "MaxConcurrency": 20, "MaxQueue": 5, "MaxQueueWait": "00:00:00.250" },
              "Idempotency":    { "Enabled": false, "HeaderName": "X-Key" }
            }
          }
        }
        """;
        var config = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        using var h = new ChainHarness(section: config.GetSection("HttpResilience:test"));

        var o = h.Services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get(ChainHarness.ClientName);

        Assert.Equal(TimeSpan.FromSeconds(5), o.Deadline);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), o.AttemptTimeout);
        Assert.Equal(3, o.Retry.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(100), o.Retry.BaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(2), o.Retry.MaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(4), o.Retry.MaxRetryAfter);
        Assert.Equal(2048, o.Retry.MaxRequestBufferBytes);
        Assert.Equal(0.25, o.CircuitBreaker.FailureRatio);
        Assert.Equal(20, o.CircuitBreaker.MinimumThroughput);
        Assert.Equal(TimeSpan.FromMinutes(1), o.CircuitBreaker.SamplingDuration);
        Assert.Equal(TimeSpan.FromSeconds(15), o.CircuitBreaker.BreakDuration);
        Assert.Equal(TimeSpan.FromSeconds(3), o.CircuitBreaker.SlowCallDuration);
        Assert.Equal(20, o.Bulkhead.MaxConcurrency);
        Assert.Equal(5, o.Bulkhead.MaxQueue);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.Bulkhead.MaxQueueWait);
        Assert.False(o.Idempotency.Enabled);
        Assert.Equal("X-Key", o.Idempotency.HeaderName);
    }

    [Theory]
    [InlineData("Deadline", "five seconds", "Deadline")]
    [InlineData("Retry:MaxRetries", "many", "MaxRetries")]
    [InlineData("Retry:MaxRetrys", "3", "MaxRetrys")]
    [InlineData("CircuitBreaker:FailureRatio", "1e999x", "FailureRatio")]
    public void Bind_UnreadableOrUnknownValue_IsAValidationFailureNamingClientAndKey(string key, string value, string expected)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        using var h = new ChainHarness(section: config);

        var ex = Assert.Throws<OptionsValidationException>(() => h.CreateClient());

        Assert.Contains("HttpClient 'test'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_ChangedSection_AppliesToTheNextRequest()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HttpResilience:test:Retry:MaxRetries"] = "2",
            ["HttpResilience:test:Retry:BaseDelay"] = "00:00:00",
        }).Build();
        using var h = new ChainHarness(section: config.GetSection("HttpResilience:test"));
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable);
        var client = h.CreateClient();

        using (await client.GetAsync("/"))
        {
            Assert.Equal(3, h.Stub.CallCount);
        }

        config["HttpResilience:test:Retry:MaxRetries"] = "0";
        config.Reload();

        using (await client.GetAsync("/"))
        {
            Assert.Equal(4, h.Stub.CallCount);
        }
    }

    [Fact]
    public void Reload_CorrectedInvalidSection_Recovers()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HttpResilience:test:Retry:MaxRetries"] = "-4",
        }).Build();
        using var h = new ChainHarness(section: config.GetSection("HttpResilience:test"));
        Assert.Throws<OptionsValidationException>(() => h.CreateClient());

        config["HttpResilience:test:Retry:MaxRetries"] = "1";
        config.Reload();

        Assert.NotNull(h.CreateClient());
    }

    [Fact]
    public void SectionThenCode_CodeRunsAfterBinding()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Retry:MaxRetries"] = "5" }).Build();
        using var h = new ChainHarness(o => o.Retry.MaxRetries = 1, section: config);

        Assert.Equal(1, h.Services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get(ChainHarness.ClientName).Retry.MaxRetries);
    }

    [Fact]
    public void AddHttpResilience_Twice_ThrowsNamingTheClient()
    {
        var services = new ServiceCollection();
        var builder = services.AddHttpClient("payment").AddHttpResilience();

        var ex = Assert.Throws<InvalidOperationException>(() => builder.AddHttpResilience());
        Assert.Contains("'payment'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddHttpResilience_NullArguments_Throw()
    {
        var builder = new ServiceCollection().AddHttpClient("x");
        Assert.Throws<ArgumentNullException>(() => ((IHttpClientBuilder)null!).AddHttpResilience());
        Assert.Throws<ArgumentNullException>(() => builder.AddHttpResilience((Action<HttpResilienceOptions>)null!));
        Assert.Throws<ArgumentNullException>(() => builder.AddHttpResilience((IConfiguration)null!));
    }

    [Fact]
    public void CreateHandler_ChainIsInTheDesignedOrder()
    {
        using var h = new ChainHarness();
        HttpMessageHandler? handler = h.Services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(ChainHarness.ClientName);
        var ours = new List<Type>();
        while (handler is DelegatingHandler delegating)
        {
            if (delegating.GetType().Assembly == typeof(HttpResilienceOptions).Assembly)
            {
                ours.Add(delegating.GetType());
            }

            handler = delegating.InnerHandler;
        }

        Assert.Equal(
            [typeof(DeadlineHandler), typeof(FallbackHandler), typeof(IdempotencyKeyHandler), typeof(RateLimitHandler), typeof(AdaptiveThrottlingHandler), typeof(BulkheadHandler), typeof(CircuitBreakerHandler), typeof(RetryHandler), typeof(HedgingHandler), typeof(AttemptTimeoutHandler), typeof(FaultInjectionHandler)],
            ours);
        Assert.IsType<StubHandler>(handler);
    }

    [Fact]
    public void Registry_StateIsPerClientAndOutlivesHandlers()
    {
        using var h = new ChainHarness(client: b => b.ConfigureHttpClient(c => c.Timeout = TimeSpan.FromSeconds(7)));
        var factory = h.Services.GetRequiredService<IHttpMessageHandlerFactory>();
        _ = factory.CreateHandler(ChainHarness.ClientName);
        _ = h.CreateClient();

        Assert.Same(h.Registry.GetOrAdd(ChainHarness.ClientName), h.Registry.GetOrAdd(ChainHarness.ClientName));
        Assert.NotSame(h.Registry.GetOrAdd(ChainHarness.ClientName), h.Registry.GetOrAdd("other"));
        Assert.Equal(TimeSpan.FromSeconds(7), h.Registry.GetOrAdd(ChainHarness.ClientName).HttpClientTimeout);
    }
}
