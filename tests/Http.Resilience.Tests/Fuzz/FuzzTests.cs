using System.Globalization;
using System.Net;
using System.Text;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.Configuration;

namespace Http.Resilience.Tests;

/// <summary>
/// Seeded property tests over hostile inputs: zero unhandled exceptions, and the documented bounds hold.
/// 10^4 cases each in CI; set HTTP_RESILIENCE_FUZZ_CASES (for example to 1000000) for the nightly mode.
/// </summary>
public class FuzzTests
{
    private static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("HTTP_RESILIENCE_FUZZ_CASES"), out var n) && n > 0 ? n : 10_000;
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] Days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Foo", ""];
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Xyz"];

    private static string RandomText(Random random, int maxLength)
    {
        var length = random.Next(0, maxLength);
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(random.Next(4) switch
            {
                0 => (char)random.Next(0, 32), // control characters
                1 => (char)random.Next(32, 127),
                2 => "0123456789-+:., "[random.Next(16)],
                _ => (char)random.Next(128, 0xD7FF),
            });
        }

        return builder.ToString();
    }

    private static string RandomRetryAfter(Random random) => random.Next(8) switch
    {
        0 => random.NextInt64(long.MinValue, long.MaxValue).ToString(CultureInfo.InvariantCulture),
        1 => new string('9', random.Next(1, 400)),
        2 => random.Next(-100, 100_000).ToString(CultureInfo.InvariantCulture),
        3 => $"{Days[random.Next(Days.Length)]}, {random.Next(-5, 40):00} {Months[random.Next(Months.Length)]} {random.Next(0, 20000)} {random.Next(-1, 30):00}:{random.Next(0, 70):00}:{random.Next(0, 70):00} {(random.Next(2) == 0 ? "GMT" : "PST")}",
        4 => Now.AddSeconds(random.NextDouble() * 2e9 - 1e9).ToString("r", CultureInfo.InvariantCulture),
        5 => Encoding.Latin1.GetString(Enumerable.Range(0, random.Next(0, 40)).Select(_ => (byte)random.Next(256)).ToArray()),
        6 => " " + random.Next(0, 1000).ToString(CultureInfo.InvariantCulture) + new string(' ', random.Next(3)),
        _ => RandomText(random, 60),
    };

    [Fact]
    public void RetryAfter_AnyValue_NeverThrowsAndNeverYieldsANegativeDelay()
    {
        var random = new Random(20261126);
        for (var i = 0; i < Cases; i++)
        {
            var value = RandomRetryAfter(random);
            if (RetryAfterParser.TryParse(value, Now, out var delay))
            {
                Assert.True(delay >= TimeSpan.Zero, value);
            }

            using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
            response.Headers.TryAddWithoutValidation("Retry-After", value);
            if (RetryAfterParser.TryGetDelay(response, Now, out var fromHeader))
            {
                Assert.True(fromHeader >= TimeSpan.Zero, value);
            }

            _ = OutcomeClassifier.Classify(response);
        }
    }

    [Fact]
    public void Backoff_AnyAttemptNumber_NeverNegativeNeverAboveMaxDelay()
    {
        var random = new Random(42);
        for (var i = 0; i < Cases; i++)
        {
            var retry = random.Next(4) switch
            {
                0 => random.Next(0, 64),
                1 => int.MaxValue - random.Next(0, 10),
                2 => random.Next(int.MinValue, 0),
                _ => random.Next(),
            };
            var baseDelay = TimeSpan.FromTicks(random.NextInt64(0, TimeSpan.FromDays(1).Ticks));
            var maxDelay = TimeSpan.FromTicks(random.NextInt64(baseDelay.Ticks, TimeSpan.FromDays(1).Ticks + 1));
            var delay = RetryBackoff.Compute(retry, baseDelay, maxDelay, random.NextDouble());
            Assert.InRange(delay, TimeSpan.Zero, maxDelay);
        }
    }

    private static readonly string[] Keys =
    [
        "Deadline", "AttemptTimeout",
        "Retry:Enabled", "Retry:MaxRetries", "Retry:BaseDelay", "Retry:MaxDelay", "Retry:MaxRetryAfter", "Retry:MaxRequestBufferBytes", "Retry:Budget:Enabled", "Retry:Budget:Ratio", "Retry:Budget:MinRetriesPerSecond", "Retry:Budget:Window",
        "CircuitBreaker:Enabled", "CircuitBreaker:FailureRatio", "CircuitBreaker:MinimumThroughput", "CircuitBreaker:SamplingDuration",
        "CircuitBreaker:BreakDuration", "CircuitBreaker:MaxBreakDuration", "CircuitBreaker:RampUp", "CircuitBreaker:SlowCallDuration", "CircuitBreaker:CountTooManyRequestsAsFailure", "CircuitBreaker:PerAuthority", "CircuitBreaker:MaxAuthorities",
        "Bulkhead:Enabled", "Bulkhead:MaxConcurrency", "Bulkhead:MaxQueue", "Bulkhead:MaxQueueWait", "Bulkhead:PerAuthority", "Bulkhead:MaxAuthorities",
        "RateLimit:Enabled", "RateLimit:TokenLimit", "RateLimit:TokensPerPeriod", "RateLimit:ReplenishmentPeriod", "RateLimit:MaxQueue",
        "Fallback:Enabled", "Fallback:StaleIfError", "Fallback:MaxStaleness", "Fallback:MaxEntries", "Fallback:MaxBytes", "Fallback:MaxEntryBytes",
        "FaultInjection:Enabled", "FaultInjection:FailureRate", "FaultInjection:FailureStatusCode", "FaultInjection:Latency",
        "FaultInjection:RandomLatency", "FaultInjection:LatencyRate", "FaultInjection:Seed",
        "Idempotency:Enabled", "Idempotency:HeaderName",
        "AdaptiveThrottling:Enabled", "AdaptiveThrottling:K", "AdaptiveThrottling:Window", "RetryPropagation:Enabled", "RetryPropagation:AttemptHeaderName", "Pushback:ShouldRetryHeaders:0", "Pushback:Gate", "Pushback:KeepWithinQuota",
        "Hedging:Enabled", "Hedging:MaxHedgedAttempts", "Hedging:Delay", "Hedging:Percentile", "Hedging:MinDelay", "ResponseBuffering:Enabled", "ResponseBuffering:MaxBytes",
        "DeadlinePropagation:Enabled", "DeadlinePropagation:HeaderName", "DeadlinePropagation:SafetyMargin",
        "Unknown", "Retry:Unknown",
    ];

    private static string RandomConfigValue(Random random) => random.Next(9) switch
    {
        0 => random.NextInt64(long.MinValue, long.MaxValue).ToString(CultureInfo.InvariantCulture),
        1 => TimeSpan.FromTicks(random.NextInt64(-TimeSpan.FromDays(3).Ticks, TimeSpan.FromDays(3).Ticks)).ToString("c", CultureInfo.InvariantCulture),
        2 => random.Next(2) == 0 ? "true" : "false",
        3 => (random.NextDouble() * 4 - 1).ToString("R", CultureInfo.InvariantCulture),
        4 => "-00:00:00.001",
        5 => new string('9', random.Next(1, 50)),
        6 => string.Empty,
        7 => "Idempotency-Key",
        _ => RandomText(random, 30),
    };

    [Fact]
    public void Configuration_AnyStrings_BindAndValidateWithoutThrowing_AndValidOptionsAreInBounds()
    {
        var random = new Random(7);
        var validator = new HttpResilienceOptionsValidator();
        var valid = 0;
        for (var i = 0; i < Cases; i++)
        {
            var values = new Dictionary<string, string?>();
            for (var k = random.Next(1, 6); k > 0; k--)
            {
                values[Keys[random.Next(Keys.Length)]] = RandomConfigValue(random);
            }

            var options = new HttpResilienceOptions();
            ConfigurationBinding.Bind(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), options);
            var result = validator.Validate("fuzz", options);
            if (result.Failed)
            {
                Assert.All(result.Failures!, f => Assert.StartsWith("HttpClient 'fuzz': HttpResilience ", f, StringComparison.Ordinal));
                continue;
            }

            valid++;
            Assert.True(options.Deadline > TimeSpan.Zero || options.Deadline == Timeout.InfiniteTimeSpan);
            Assert.True(options.AttemptTimeout > TimeSpan.Zero || options.AttemptTimeout == Timeout.InfiniteTimeSpan);
            Assert.InRange(options.Retry.MaxRetries, 0, 100);
            Assert.InRange(options.CircuitBreaker.FailureRatio, double.Epsilon, 1);
            Assert.True(options.Bulkhead.MaxConcurrency >= 1);
            Assert.InRange(options.FaultInjection.FailureRate, 0, 1);
        }

        Assert.True(valid > Cases / 50, $"only {valid} of {Cases} generated configurations were valid: the generator is not reaching the happy path");
    }

    [Fact]
    public async Task IdempotencyHeader_AnyCallerValue_NeverThrowsAndEveryAttemptCarriesOneKey()
    {
        using var h = new ChainHarness(o =>
        {
            o.Retry.BaseDelay = TimeSpan.Zero;
            o.CircuitBreaker.Enabled = false;
            o.Retry.Budget.Enabled = false; // every request fails once on purpose: a budget would (rightly) stop retrying them
        });
        var call = 0;
        h.Stub.Then((_, _) => Task.FromResult(new HttpResponseMessage(Interlocked.Increment(ref call) % 2 == 1 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK)));
        var client = h.CreateClient();
        var random = new Random(99);
        var cases = Math.Min(Cases, 10_000);
        for (var i = 0; i < cases; i++)
        {
            var value = RandomText(random, 80);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("x") };
            request.Headers.TryAddWithoutValidation("Idempotency-Key", value);
            var before = h.Stub.CallCount;

            using var response = await client.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(before + 2, h.Stub.CallCount); // keyed (the caller's or ours), so retried once
            var sent = h.Stub.Calls[^1].Headers["Idempotency-Key"];
            Assert.Equal(h.Stub.Calls[^2].Headers["Idempotency-Key"], sent);
            Assert.False(string.IsNullOrWhiteSpace(sent));
        }
    }
}
