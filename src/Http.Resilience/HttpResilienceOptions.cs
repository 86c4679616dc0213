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
/// <para>
/// One request can ask for other settings than its client's (a deadline, an attempt timeout, fewer retries, no fallback):
/// see <see cref="HttpRequestMessageResilienceExtensions"/>.
/// </para>
/// </remarks>
public sealed class HttpResilienceOptions
{
    private TimeSpan? _attemptTimeout; // null: not set, so it follows the deadline down
    private TimeSpan? _maxRequestDeadline; // null: not set, so it is the deadline

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

    /// <summary>Gets or sets the longest budget one request may ask for with <see cref="HttpRequestMessageResilienceExtensions.SetResilienceDeadline"/>.</summary>
    /// <value>
    /// The default value is <see cref="Deadline"/>: a request may shorten its budget, not lengthen it. A value that is set
    /// must be positive, at most 1 day and not less than <see cref="Deadline"/>, or <see cref="Timeout.InfiniteTimeSpan"/>.
    /// </value>
    /// <remarks>
    /// <c>CreateClient</c> sets <see cref="HttpClient.Timeout"/> from this value (plus one second), not from
    /// <see cref="Deadline"/>: the <see cref="HttpClient"/> would otherwise cut a longer request short. That timeout is also
    /// what bounds reading a body after the chain returned (with <see cref="HttpCompletionOption.ResponseContentRead"/>,
    /// the default of <c>GetAsync</c>), so raising this value lengthens that bound for every request of the client.
    /// A request that asks for more fails with <see cref="ArgumentException"/> when it is sent, and nothing is sent.
    /// An <see cref="HttpClient"/> keeps the timeout computed when it was created (so a reloaded value applies to clients
    /// created afterwards), and one not made by <c>CreateClient</c> keeps its own: with a shorter one, that
    /// <see cref="HttpClient"/> still cancels a longer request itself.
    /// </remarks>
    public TimeSpan MaxRequestDeadline
    {
        get => _maxRequestDeadline ?? Deadline;
        set => _maxRequestDeadline = value;
    }

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
