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
/// failures reached <see cref="FailureRatio"/>; it then fails fast for a break (see <see cref="BreakDuration"/>) and lets one probe through, and after the probe
/// succeeds it ramps the traffic back up (see <see cref="RampUp"/>).
/// </remarks>
public sealed class CircuitBreakerOptions
{
    private TimeSpan? _maxBreakDuration;

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

    /// <summary>Gets or sets the first break: how long the circuit stays open before it lets the first probe through.</summary>
    /// <value>The default value is 3 seconds. Must be positive and at most 1 day.</value>
    /// <remarks>
    /// Each probe that fails doubles the next break, up to <see cref="MaxBreakDuration"/>; a probe that succeeds starts
    /// again from this value. Every break is equal-jittered: it lasts between half its length and all of it, so that many
    /// clients (or many replicas of one service) do not probe a dependency in lockstep. When the response that opens the
    /// circuit (or fails the probe) is a 429 or 503 that names a wait, the break lasts until that instant instead (spread
    /// over up to half as long again), bounded by <see cref="MaxBreakDuration"/>.
    /// </remarks>
    public TimeSpan BreakDuration { get; set; } = HttpResilienceDefaults.BreakDuration;

    /// <summary>Gets or sets the longest break, however many probes failed.</summary>
    /// <value>
    /// The default value is 60 seconds, or <see cref="BreakDuration"/> when that is longer (so a configuration that only
    /// sets a long first break keeps working). When set, must be at least <see cref="BreakDuration"/> and at most 1 day.
    /// Set it equal to <see cref="BreakDuration"/> for a fixed break of exactly that length, not jittered and never
    /// lengthened.
    /// </value>
    public TimeSpan MaxBreakDuration
    {
        get => _maxBreakDuration ?? (BreakDuration > HttpResilienceDefaults.MaxBreakDuration ? BreakDuration : HttpResilienceDefaults.MaxBreakDuration);
        set => _maxBreakDuration = value;
    }

    /// <summary>Gets or sets how long the requests in flight take to ramp back to the bulkhead's limit after the circuit closes.</summary>
    /// <value>
    /// The default value is 5 seconds. Must be zero (no ramp) or positive and at most 1 day. The ramp needs the bulkhead:
    /// with <see cref="BulkheadOptions.Enabled"/> off there is no limit to ramp to, and none is applied.
    /// </value>
    /// <remarks>
    /// When a probe closes the circuit, the callers that were turned away all come back at once. For <see cref="RampUp"/>
    /// after the close, the requests in flight through this circuit are limited to a share of
    /// <see cref="BulkheadOptions.MaxConcurrency"/> that grows in a straight line from a tenth (at least one) to all of it.
    /// A request over the ramped limit waits for room within its own budget, before it takes a bulkhead permit (so waiting
    /// requests never fill the bulkhead), and is rejected with
    /// <see cref="BulkheadRejectedException"/> only when its budget runs out first.
    /// </remarks>
    public TimeSpan RampUp { get; set; } = HttpResilienceDefaults.RampUp;

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
