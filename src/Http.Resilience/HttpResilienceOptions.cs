namespace Http.Resilience;

/// <summary>
/// Options for the resilience chain of one named or typed <see cref="HttpClient"/>.
/// </summary>
/// <remarks>
/// <para>
/// The chain, outermost to innermost: deadline, fallback (optional), idempotency key, rate limit (optional), adaptive
/// throttling (optional), bulkhead, circuit breaker, retry, hedging (optional), attempt timeout, fault injection
/// (optional), then the primary handler. The deadline starts when a request enters the chain and
/// is shared by every layer: the bulkhead never queues past it, the retry never waits past it, and each
/// attempt is bounded by the smaller of <see cref="AttemptTimeout"/> and the budget left.
/// </para>
/// <para>
/// Options are read once per logical request from <c>IOptionsMonitor&lt;HttpResilienceOptions&gt;</c>
/// under the client's name, so a reloaded configuration applies to the next request.
/// <see cref="Timeout.InfiniteTimeSpan"/> is accepted for <see cref="Deadline"/> and
/// <see cref="AttemptTimeout"/> and means "no bound".
/// </para>
/// </remarks>
public sealed class HttpResilienceOptions
{
    private TimeSpan? _attemptTimeout; // null: not set, so it follows the deadline down

    /// <summary>Gets or sets the budget of one logical request: bulkhead queueing, every attempt and every backoff.</summary>
    /// <value>The default value is 10 seconds. Must be positive and at most 1 day, or <see cref="Timeout.InfiniteTimeSpan"/>.</value>
    /// <remarks>
    /// When the budget is spent before a usable response the request fails with <see cref="DeadlineExceededException"/>.
    /// The budget covers the handler chain up to the response headers; reading the body afterwards is the caller's
    /// (use a <see cref="CancellationToken"/> for it). A finite <see cref="HttpClient.Timeout"/> set by the user,
    /// other than the 100 second default, shortens the budget to that value, and so does an <see cref="InheritedDeadline"/>
    /// (the deadline of the request being served, when it carried one).
    /// </remarks>
    public TimeSpan Deadline { get; set; } = HttpResilienceDefaults.Deadline;

    /// <summary>Gets or sets the timeout of one attempt.</summary>
    /// <value>
    /// The default value is 2 seconds, or the <see cref="Deadline"/> when that is shorter: a default never makes a deadline
    /// invalid. A value that is set must be positive, at most 1 day and not greater than <see cref="Deadline"/>, or
    /// <see cref="Timeout.InfiniteTimeSpan"/>.
    /// </value>
    /// <remarks>The effective timeout of each attempt is the smaller of this value and the budget left. A timed-out attempt is a transient failure.</remarks>
    public TimeSpan AttemptTimeout
    {
        get => _attemptTimeout ?? (Deadline > TimeSpan.Zero ? TimeMath.Min(HttpResilienceDefaults.AttemptTimeout, Deadline) : HttpResilienceDefaults.AttemptTimeout);
        set => _attemptTimeout = value;
    }

    /// <summary>Gets or sets the deadline propagation options (off by default).</summary>
    public DeadlinePropagationOptions DeadlinePropagation { get; set; } = new();

    /// <summary>Gets or sets the retry propagation options (off by default): each attempt's number in a header.</summary>
    public RetryPropagationOptions RetryPropagation { get; set; } = new();

    /// <summary>Gets or sets the server pushback options: the headers that say whether an answer may be retried.</summary>
    public PushbackOptions Pushback { get; set; } = new();

    /// <summary>Gets or sets the client-side adaptive throttling options (off by default).</summary>
    public AdaptiveThrottlingOptions AdaptiveThrottling { get; set; } = new();

    /// <summary>Gets or sets the retry options.</summary>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>Gets or sets the hedging options (off by default): a second copy of an attempt that is slower than usual.</summary>
    public HedgingOptions Hedging { get; set; } = new();

    /// <summary>Gets or sets the response buffering options (off by default): each attempt reads its body before it returns.</summary>
    public ResponseBufferingOptions ResponseBuffering { get; set; } = new();

    /// <summary>Gets or sets the circuit breaker options.</summary>
    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();

    /// <summary>Gets or sets the bulkhead (concurrency limit) options.</summary>
    public BulkheadOptions Bulkhead { get; set; } = new();

    /// <summary>Gets or sets the optional outbound rate limit options (off by default).</summary>
    public RateLimitOptions RateLimit { get; set; } = new();

    /// <summary>Gets or sets the optional fallback options (off by default).</summary>
    public FallbackOptions Fallback { get; set; } = new();

    /// <summary>Gets or sets the fault injection options (off by default; for staging and tests).</summary>
    public FaultInjectionOptions FaultInjection { get; set; } = new();

    /// <summary>Gets or sets the idempotency key options.</summary>
    public IdempotencyOptions Idempotency { get; set; } = new();

    /// <summary>Configuration errors met while binding; reported by validation, never thrown by the binder.</summary>
    internal List<string>? ConfigurationErrors { get; set; }
}
