namespace Http.Resilience;

/// <summary>
/// The default of every option of every layer, in one place: the options classes refer here, never to literals. The core
/// numbers come from the cheat sheet of the article "Failure Is Not an Option"; the README's tables mirror this file.
/// </summary>
internal static class HttpResilienceDefaults
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    public const int MaxRetries = 2;
    public const int MaxRetriesLimit = 100;
    public static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(30);

    // Finagle's RetryBudget defaults: a retry per five requests over 10 s, and 10 retries a second for quiet clients.
    public const double RetryBudgetRatio = 0.2;
    public const int RetryBudgetMinRetriesPerSecond = 10;
    public static readonly TimeSpan RetryBudgetWindow = TimeSpan.FromSeconds(10);

    // Google SRE's client-side throttling: K = 2 over a two-minute window.
    public const double AdaptiveThrottlingK = 2;
    public static readonly TimeSpan AdaptiveThrottlingWindow = TimeSpan.FromMinutes(2);
    public const long MaxRequestBufferBytes = 1024 * 1024;

    public const double FailureRatio = 0.5;
    public const int MinimumThroughput = 10;
    public static readonly TimeSpan SamplingDuration = TimeSpan.FromSeconds(30);

    // The first break is short, so a blip (a restart, a failover) costs its users about its own length; each failed
    // probe doubles the next break up to a minute, so a long outage costs a probe a minute. Both are equal-jittered.
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan MaxBreakDuration = TimeSpan.FromSeconds(60);

    // After a close, the requests in flight ramp from a tenth of the bulkhead's limit to all of it (Envoy's slow start
    // starts at a tenth too), over a time short against the default deadline so that few requests wait it out.
    public static readonly TimeSpan RampUp = TimeSpan.FromSeconds(5);
    public const double RampStartShare = 0.1;

    // Hedging: one extra copy at most, sent when an attempt is slower than 95 % of this client's recent ones ("The Tail at
    // Scale" hedges at the 95th percentile), never sooner than the floor: a delay shorter than a timer tick is not one.
    public const int MaxHedgedAttempts = 1;
    public const int MaxHedgedAttemptsLimit = 10;
    public const double HedgingPercentile = 95;
    public static readonly TimeSpan HedgingMinDelay = TimeSpan.FromMilliseconds(5);

    /// <summary>Attempt latencies the adaptive hedging delay needs before its first hedge.</summary>
    public const int HedgingMinSamples = 100;

    public const long ResponseBufferingMaxBytes = 1024 * 1024;

    public const int MaxConcurrency = 100;

    /// <summary>Per-authority circuits or bulkheads kept per client before idle ones are evicted.</summary>
    public const int MaxAuthorities = 1000;
    public const int MaxAuthoritiesLimit = 1_000_000;
    public const int MaxQueue = 0;

    public const string IdempotencyHeaderName = "Idempotency-Key";

    public const int RateLimitTokenLimit = 10;
    public const int RateLimitTokensPerPeriod = 10;
    public static readonly TimeSpan RateLimitReplenishmentPeriod = TimeSpan.FromSeconds(1);
    public const int RateLimitMaxQueue = 100;

    public static readonly TimeSpan FallbackMaxStaleness = TimeSpan.FromMinutes(5);
    public const int FallbackMaxEntries = 1000;
    public const long FallbackMaxBytes = 16 * 1024 * 1024;
    public const long FallbackMaxEntryBytes = 1024 * 1024;

    public const double FaultInjectionLatencyRate = 1;

    public const string DeadlineHeaderName = "X-Request-Deadline-Ms";
    public const string AttemptHeaderName = "X-Attempt-Count";
    public const string ShouldRetryHeaderName = "X-Should-Retry";
    public static readonly TimeSpan DeadlineSafetyMargin = TimeSpan.FromMilliseconds(100);

    /// <summary>The value of <see cref="HttpClient.Timeout"/> that a user did not change.</summary>
    public static readonly TimeSpan HttpClientDefaultTimeout = TimeSpan.FromSeconds(100);

    /// <summary>What <see cref="HttpClient.Timeout"/> adds to the deadline: a backstop for the body, never first to fire.</summary>
    public static readonly TimeSpan HttpClientTimeoutGrace = TimeSpan.FromSeconds(1);
}
