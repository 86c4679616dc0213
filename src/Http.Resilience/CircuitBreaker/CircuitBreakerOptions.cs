namespace Http.Resilience;

/// <summary>Options of the circuit breaker layer.</summary>
/// <remarks>
/// <para>
/// What is counted, once per logical request after the retry loop: failures are 408, every 5xx, network errors,
/// timeouts and a spent deadline; a success slower than <see cref="SlowCallDuration"/> (when set) is a failure too.
/// Other 1xx-4xx responses are successes. Not counted at all: 429 (unless <see cref="CountTooManyRequestsAsFailure"/>),
/// the caller's cancellation, and requests the bulkhead rejected (they never reach the circuit).
/// </para>
/// The circuit sits outside the retry loop and counts one outcome per logical request. It opens when, within
/// <see cref="SamplingDuration"/>, at least <see cref="MinimumThroughput"/> requests were seen and the share of
/// failures reached <see cref="FailureRatio"/>; it then fails fast for <see cref="BreakDuration"/> and lets one probe through.
/// </remarks>
public sealed class CircuitBreakerOptions
{
    /// <summary>Gets or sets a value indicating whether the circuit breaker is on.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the share of failed requests in the sampling window that opens the circuit.</summary>
    /// <value>The default value is 0.5. Must be greater than 0 and at most 1.</value>
    public double FailureRatio { get; set; } = HttpResilienceDefaults.FailureRatio;

    /// <summary>Gets or sets the fewest requests in the sampling window before the circuit may open.</summary>
    /// <value>The default value is 10. Must be at least 1.</value>
    public int MinimumThroughput { get; set; } = HttpResilienceDefaults.MinimumThroughput;

    /// <summary>Gets or sets the length of the sliding window over which failures are counted.</summary>
    /// <value>The default value is 30 seconds. Must be between 1 second and 1 day.</value>
    public TimeSpan SamplingDuration { get; set; } = HttpResilienceDefaults.SamplingDuration;

    /// <summary>Gets or sets how long the circuit stays open before it lets a probe through.</summary>
    /// <value>The default value is 30 seconds. Must be positive and at most 1 day.</value>
    public TimeSpan BreakDuration { get; set; } = HttpResilienceDefaults.BreakDuration;

    /// <summary>Gets or sets the duration above which a successful request counts as a failure.</summary>
    /// <value>The default value is <see langword="null"/> (slow calls are not counted). When set, must be positive and at most 1 day.</value>
    public TimeSpan? SlowCallDuration { get; set; }

    /// <summary>Gets or sets a value indicating whether a 429 (Too Many Requests) counts as a failure.</summary>
    /// <value>The default value is <see langword="false"/>: a throttling dependency is alive, so 429 is not counted at all.</value>
    public bool CountTooManyRequestsAsFailure { get; set; }

    /// <summary>Gets or sets a value indicating whether each authority (scheme, host and port) gets its own circuit.</summary>
    /// <value>The default value is <see langword="false"/>: one circuit per client. Turn it on for clients without a fixed base address.</value>
    public bool PerAuthority { get; set; }

    /// <summary>Gets or sets how many per-authority circuits a client keeps before idle closed ones are evicted.</summary>
    /// <value>The default value is 1000. Must be between 1 and 1,000,000. Used only with <see cref="PerAuthority"/>.</value>
    /// <remarks>
    /// Once a client holds a quarter more circuits than this, the closed circuits not used since the previous sweep are
    /// forgotten (an evicted authority starts again with an empty window). Open and half-open circuits are never evicted.
    /// </remarks>
    public int MaxAuthorities { get; set; } = HttpResilienceDefaults.MaxAuthorities;
}
