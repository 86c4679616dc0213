namespace Http.Resilience;

/// <summary>The defaults of every option, from the seed article's cheat sheet; the README's table mirrors this file.</summary>
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
    public const long MaxRequestBufferBytes = 1024 * 1024;

    public const double FailureRatio = 0.5;
    public const int MinimumThroughput = 10;
    public static readonly TimeSpan SamplingDuration = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    public const int MaxConcurrency = 100;

    /// <summary>Per-authority circuits or bulkheads kept per client before idle ones are evicted.</summary>
    public const int MaxAuthorities = 1000;
    public const int MaxAuthoritiesLimit = 1_000_000;
    public const int MaxQueue = 0;

    public const string IdempotencyHeaderName = "Idempotency-Key";

    /// <summary>The value of <see cref="HttpClient.Timeout"/> that a user did not change.</summary>
    public static readonly TimeSpan HttpClientDefaultTimeout = TimeSpan.FromSeconds(100);

    /// <summary>What <see cref="HttpClient.Timeout"/> adds to the deadline: a backstop for the body, never first to fire.</summary>
    public static readonly TimeSpan HttpClientTimeoutGrace = TimeSpan.FromSeconds(1);
}
