using System.Globalization;
using Microsoft.Extensions.Options;

namespace Http.Resilience;

/// <summary>
/// Validates every field and the cross-field rules, with messages that name the client, the field and the rule.
/// </summary>
/// <remarks>
/// Hand-written rather than DataAnnotations so that each message carries the client's name and the value it saw,
/// and so that configuration strings that failed to bind are reported as validation failures.
/// </remarks>
internal sealed class HttpResilienceOptionsValidator : IValidateOptions<HttpResilienceOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var client = name ?? string.Empty;
        void Fail(string field, string rule, object? value)
            => errors.Add(string.Create(CultureInfo.InvariantCulture, $"HttpClient '{client}': HttpResilience option '{field}' {rule} (was '{value ?? "null"}')."));

        if (options.ConfigurationErrors is { Count: > 0 } bindErrors)
        {
            foreach (var error in bindErrors)
            {
                errors.Add($"HttpClient '{client}': HttpResilience configuration: {error}");
            }
        }

        CheckBudget(options.Deadline, nameof(HttpResilienceOptions.Deadline), Fail);
        CheckBudget(options.AttemptTimeout, nameof(HttpResilienceOptions.AttemptTimeout), Fail);
        if (!TimeMath.IsInfinite(options.AttemptTimeout) && !TimeMath.IsInfinite(options.Deadline) && options.AttemptTimeout > options.Deadline)
        {
            Fail(nameof(HttpResilienceOptions.AttemptTimeout), $"must not be greater than Deadline ('{options.Deadline}')", options.AttemptTimeout);
        }

        CheckBudget(options.MaxRequestDeadline, nameof(HttpResilienceOptions.MaxRequestDeadline), Fail);
        if (TimeMath.IsLonger(options.Deadline, options.MaxRequestDeadline))
        {
            var rule = TimeMath.IsInfinite(options.Deadline) ? "must be Timeout.InfiniteTimeSpan when Deadline is" : $"must not be less than Deadline ('{options.Deadline}')";
            Fail(nameof(HttpResilienceOptions.MaxRequestDeadline), rule, options.MaxRequestDeadline);
        }

        if (options.Retry is not { } retry)
        {
            Fail(nameof(HttpResilienceOptions.Retry), "must not be null", null);
        }
        else
        {
            if (retry.MaxRetries is < 0 or > HttpResilienceDefaults.MaxRetriesLimit)
            {
                Fail("Retry.MaxRetries", $"must be between 0 and {HttpResilienceDefaults.MaxRetriesLimit}", retry.MaxRetries);
            }

            CheckRange(retry.BaseDelay, "Retry.BaseDelay", Fail);
            CheckRange(retry.MaxDelay, "Retry.MaxDelay", Fail);
            if (retry.MaxDelay < retry.BaseDelay)
            {
                Fail("Retry.MaxDelay", $"must not be less than Retry.BaseDelay ('{retry.BaseDelay}')", retry.MaxDelay);
            }

            CheckRange(retry.MaxRetryAfter, "Retry.MaxRetryAfter", Fail);
            if (retry.MaxRequestBufferBytes < 0)
            {
                Fail("Retry.MaxRequestBufferBytes", "must be zero or more", retry.MaxRequestBufferBytes);
            }

            if (retry.Budget is not { } budget)
            {
                Fail("Retry.Budget", "must not be null", null);
            }
            else
            {
                if (!(budget.Ratio >= 0 && budget.Ratio <= 100))
                {
                    Fail("Retry.Budget.Ratio", "must be between 0 and 100", budget.Ratio);
                }

                if (budget.MinRetriesPerSecond is < 0 or > 1_000_000)
                {
                    Fail("Retry.Budget.MinRetriesPerSecond", "must be between 0 and 1,000,000", budget.MinRetriesPerSecond);
                }

                if (budget.Window < TimeSpan.FromSeconds(1) || budget.Window > TimeSpan.FromHours(1))
                {
                    Fail("Retry.Budget.Window", "must be between 1 second and 1 hour", budget.Window);
                }
            }
        }

        if (options.CircuitBreaker is not { } circuit)
        {
            Fail(nameof(HttpResilienceOptions.CircuitBreaker), "must not be null", null);
        }
        else
        {
            if (!(circuit.FailureRatio > 0 && circuit.FailureRatio <= 1))
            {
                Fail("CircuitBreaker.FailureRatio", "must be greater than 0 and at most 1", circuit.FailureRatio);
            }

            if (circuit.MinimumThroughput < 1)
            {
                Fail("CircuitBreaker.MinimumThroughput", "must be at least 1", circuit.MinimumThroughput);
            }

            if (circuit.SamplingDuration < TimeSpan.FromSeconds(1) || circuit.SamplingDuration > HttpResilienceDefaults.MaxDuration)
            {
                Fail("CircuitBreaker.SamplingDuration", "must be between 1 second and 1 day", circuit.SamplingDuration);
            }

            CheckPositive(circuit.BreakDuration, "CircuitBreaker.BreakDuration", Fail);
            CheckPositive(circuit.MaxBreakDuration, "CircuitBreaker.MaxBreakDuration", Fail);
            if (circuit.MaxBreakDuration < circuit.BreakDuration)
            {
                Fail("CircuitBreaker.MaxBreakDuration", $"must be at least CircuitBreaker.BreakDuration ('{circuit.BreakDuration}')", circuit.MaxBreakDuration);
            }

            if (circuit.RampUp < TimeSpan.Zero || circuit.RampUp > HttpResilienceDefaults.MaxDuration)
            {
                Fail("CircuitBreaker.RampUp", "must be zero (no ramp) or positive and at most 1 day", circuit.RampUp);
            }

            CheckMaxAuthorities(circuit.MaxAuthorities, "CircuitBreaker.MaxAuthorities", Fail);
            if (circuit.SlowCallDuration is { } slow)
            {
                CheckPositive(slow, "CircuitBreaker.SlowCallDuration", Fail);
            }
        }

        if (options.Bulkhead is not { } bulkhead)
        {
            Fail(nameof(HttpResilienceOptions.Bulkhead), "must not be null", null);
        }
        else
        {
            if (bulkhead.MaxConcurrency < 1)
            {
                Fail("Bulkhead.MaxConcurrency", "must be at least 1", bulkhead.MaxConcurrency);
            }

            if (bulkhead.MaxQueue < 0)
            {
                Fail("Bulkhead.MaxQueue", "must be zero or more", bulkhead.MaxQueue);
            }

            CheckBudget(bulkhead.MaxQueueWait, "Bulkhead.MaxQueueWait", Fail);
            CheckMaxAuthorities(bulkhead.MaxAuthorities, "Bulkhead.MaxAuthorities", Fail);
        }

        if (options.RateLimit is not { } rateLimit)
        {
            Fail(nameof(HttpResilienceOptions.RateLimit), "must not be null", null);
        }
        else
        {
            if (rateLimit.TokenLimit < 1)
            {
                Fail("RateLimit.TokenLimit", "must be at least 1", rateLimit.TokenLimit);
            }

            if (rateLimit.TokensPerPeriod < 1)
            {
                Fail("RateLimit.TokensPerPeriod", "must be at least 1", rateLimit.TokensPerPeriod);
            }

            CheckPositive(rateLimit.ReplenishmentPeriod, "RateLimit.ReplenishmentPeriod", Fail);
            if (rateLimit.MaxQueue < 0)
            {
                Fail("RateLimit.MaxQueue", "must be zero or more", rateLimit.MaxQueue);
            }
        }

        if (options.Fallback is not { } fallback)
        {
            Fail(nameof(HttpResilienceOptions.Fallback), "must not be null", null);
        }
        else
        {
            CheckPositive(fallback.MaxStaleness, "Fallback.MaxStaleness", Fail);
            if (fallback.MaxEntries < 1)
            {
                Fail("Fallback.MaxEntries", "must be at least 1", fallback.MaxEntries);
            }

            if (fallback.MaxBytes < 1)
            {
                Fail("Fallback.MaxBytes", "must be at least 1", fallback.MaxBytes);
            }

            if (fallback.MaxEntryBytes < 1 || fallback.MaxEntryBytes > fallback.MaxBytes)
            {
                Fail("Fallback.MaxEntryBytes", "must be at least 1 and at most Fallback.MaxBytes", fallback.MaxEntryBytes);
            }
        }

        if (options.FaultInjection is not { } faults)
        {
            Fail(nameof(HttpResilienceOptions.FaultInjection), "must not be null", null);
        }
        else
        {
            if (!(faults.FailureRate >= 0 && faults.FailureRate <= 1))
            {
                Fail("FaultInjection.FailureRate", "must be between 0 and 1", faults.FailureRate);
            }

            if (!(faults.LatencyRate >= 0 && faults.LatencyRate <= 1))
            {
                Fail("FaultInjection.LatencyRate", "must be between 0 and 1", faults.LatencyRate);
            }

            if (faults.FailureStatusCode != 0 && faults.FailureStatusCode is < 100 or > 599)
            {
                Fail("FaultInjection.FailureStatusCode", "must be 0 (throw a connection error) or between 100 and 599", faults.FailureStatusCode);
            }

            CheckRange(faults.Latency, "FaultInjection.Latency", Fail);
        }

        if (options.DeadlinePropagation is not { } propagation)
        {
            Fail(nameof(HttpResilienceOptions.DeadlinePropagation), "must not be null", null);
        }
        else
        {
            if (!IsHeaderName(propagation.HeaderName) || !IsFreeRequestHeader(propagation.HeaderName))
            {
                Fail("DeadlinePropagation.HeaderName", "must be a valid HTTP request header name that the HTTP stack does not manage", propagation.HeaderName);
            }

            CheckRange(propagation.SafetyMargin, "DeadlinePropagation.SafetyMargin", Fail);
            if (propagation.Enabled && !TimeMath.IsInfinite(options.AttemptTimeout) && !DeadlinePropagationOptions.LeavesTime(options.AttemptTimeout, propagation.SafetyMargin))
            {
                Fail("DeadlinePropagation.SafetyMargin", $"must be at least 1 ms less than AttemptTimeout ('{options.AttemptTimeout}') when propagation is on", propagation.SafetyMargin);
            }
        }

        if (options.RetryPropagation is not { } retryPropagation)
        {
            Fail(nameof(HttpResilienceOptions.RetryPropagation), "must not be null", null);
        }
        else if (!IsHeaderName(retryPropagation.AttemptHeaderName) || !IsFreeRequestHeader(retryPropagation.AttemptHeaderName))
        {
            Fail("RetryPropagation.AttemptHeaderName", "must be a valid HTTP request header name that the HTTP stack does not manage", retryPropagation.AttemptHeaderName);
        }

        if (options.Pushback is not { ShouldRetryHeaders: { } shouldRetryHeaders })
        {
            Fail("Pushback.ShouldRetryHeaders", "must not be null", null);
        }
        else
        {
            foreach (var header in shouldRetryHeaders)
            {
                if (!IsHeaderName(header))
                {
                    Fail("Pushback.ShouldRetryHeaders", "must hold valid HTTP header names (RFC 9110 tokens)", header);
                }
            }
        }

        if (options.AdaptiveThrottling is not { } throttling)
        {
            Fail(nameof(HttpResilienceOptions.AdaptiveThrottling), "must not be null", null);
        }
        else
        {
            if (!(throttling.K >= 1 && throttling.K <= 100))
            {
                Fail("AdaptiveThrottling.K", "must be between 1 and 100", throttling.K);
            }

            if (throttling.Window < TimeSpan.FromSeconds(1) || throttling.Window > TimeSpan.FromHours(1))
            {
                Fail("AdaptiveThrottling.Window", "must be between 1 second and 1 hour", throttling.Window);
            }
        }

        if (options.Hedging is not { } hedging)
        {
            Fail(nameof(HttpResilienceOptions.Hedging), "must not be null", null);
        }
        else
        {
            if (hedging.MaxHedgedAttempts is < 1 or > HttpResilienceDefaults.MaxHedgedAttemptsLimit)
            {
                Fail("Hedging.MaxHedgedAttempts", $"must be between 1 and {HttpResilienceDefaults.MaxHedgedAttemptsLimit}", hedging.MaxHedgedAttempts);
            }

            if (hedging.Delay is { } delay)
            {
                CheckRange(delay, "Hedging.Delay", Fail);
            }

            if (!(hedging.Percentile >= 50 && hedging.Percentile <= 99.9))
            {
                Fail("Hedging.Percentile", "must be between 50 and 99.9", hedging.Percentile);
            }

            CheckRange(hedging.MinDelay, "Hedging.MinDelay", Fail);
        }

        if (options.ResponseBuffering is not { } buffering)
        {
            Fail(nameof(HttpResilienceOptions.ResponseBuffering), "must not be null", null);
        }
        else if (buffering.MaxBytes < 1 || buffering.MaxBytes >= Array.MaxLength)
        {
            // One byte more than the cap is read to tell a body at the cap from a longer one: that byte must fit an array.
            Fail("ResponseBuffering.MaxBytes", string.Create(CultureInfo.InvariantCulture, $"must be between 1 and {Array.MaxLength - 1:N0}"), buffering.MaxBytes);
        }

        if (options.Idempotency is not { } idempotency)
        {
            Fail(nameof(HttpResilienceOptions.Idempotency), "must not be null", null);
        }
        else if (!IsHeaderName(idempotency.HeaderName))
        {
            Fail("Idempotency.HeaderName", "must be a valid HTTP header name (RFC 9110 token)", idempotency.HeaderName);
        }
        else if (!IsFreeRequestHeader(idempotency.HeaderName))
        {
            Fail("Idempotency.HeaderName", "must not be a content header or a header the HTTP stack manages (Host, Authorization, Connection, ...)", idempotency.HeaderName);
        }

        // One failure whose lines are the problems found: OptionsValidationException joins separate failures with "; ", which
        // runs several messages into one line; here each problem gets its own line.
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(string.Join('\n', errors));
    }

    /// <summary>Positive and at most 1 day, or infinite.</summary>
    private static void CheckBudget(TimeSpan value, string field, Action<string, string, object?> fail)
    {
        if (!TimeMath.IsBudget(value))
        {
            fail(field, "must be positive and at most 1 day, or Timeout.InfiniteTimeSpan", value);
        }
    }

    private static void CheckPositive(TimeSpan value, string field, Action<string, string, object?> fail)
    {
        if (value <= TimeSpan.Zero || value > HttpResilienceDefaults.MaxDuration)
        {
            fail(field, "must be positive and at most 1 day", value);
        }
    }

    private static void CheckMaxAuthorities(int value, string field, Action<string, string, object?> fail)
    {
        if (value < 1 || value > HttpResilienceDefaults.MaxAuthoritiesLimit)
        {
            fail(field, "must be between 1 and 1,000,000", value);
        }
    }

    private static void CheckRange(TimeSpan value, string field, Action<string, string, object?> fail)
    {
        if (value < TimeSpan.Zero || value > HttpResilienceDefaults.MaxDuration)
        {
            fail(field, "must be between zero and 1 day", value);
        }
    }

    private static readonly HashSet<string> ManagedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Authorization", "Proxy-Authorization", "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer",
        "Upgrade", "Expect", "Cookie", "Via", "Proxy-Connection",
    };

    /// <summary>A header the key may own: a request header (not content), not one the stack or auth relies on.</summary>
    private static bool IsFreeRequestHeader(string name)
    {
        using var probe = new HttpRequestMessage();
        return !ManagedHeaders.Contains(name) && probe.Headers.TryAddWithoutValidation(name, "probe");
    }

    private static bool IsHeaderName(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        foreach (var c in value)
        {
            // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
            var ok = char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
