namespace Http.Resilience;

/// <summary>Options of hedged requests: a second copy of a slow attempt, sent in parallel, the first usable answer wins.</summary>
/// <remarks>
/// <para>
/// When an attempt has not answered after the hedging delay, another copy of the request is sent, and whichever usable
/// response comes first is returned; the other copies are cancelled and their responses disposed. A usable response is
/// any the retry layer would not retry (a success, a 404); a copy that fails while another is still in flight is dropped
/// and the other awaited. When every copy has failed, the last failure goes to the retry layer as one attempt's outcome.
/// </para>
/// <para>
/// Only requests that are safe to send twice are hedged: the idempotent methods, and POST or PATCH with an idempotency
/// key (every copy carries the same key). The body is sent again as a retry sends it: a stream is buffered first when its
/// length is known and within <see cref="RetryOptions.MaxRequestBufferBytes"/>, and a request whose body cannot be sent
/// twice is never hedged.
/// </para>
/// <para>
/// Every copy is an attempt of its own, bounded by <see cref="HttpResilienceOptions.AttemptTimeout"/> (or the request's
/// own) and the budget left. The circuit breaker counts the hedged attempt once, and the bulkhead holds one permit for
/// it. Each copy after the first withdraws one retry from the retry budget (<see cref="RetryOptions.Budget"/>): when the
/// budget is empty no copy is sent, so hedges and retries together stay within it. No copy is sent once the budget of
/// the request is nearly spent, the circuit has opened, or the dependency is pushing back with 429s (see
/// <see cref="PushbackOptions.KeepWithinQuota"/>).
/// </para>
/// </remarks>
public sealed class HedgingOptions
{
    /// <summary>Gets or sets a value indicating whether slow attempts are hedged.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the most copies sent per attempt besides the first.</summary>
    /// <value>The default value is 1. Must be between 1 and 10.</value>
    /// <remarks>With more than one, each further copy is sent one more delay after the previous one.</remarks>
    public int MaxHedgedAttempts { get; set; } = HttpResilienceDefaults.MaxHedgedAttempts;

    /// <summary>Gets or sets a fixed hedging delay, or <see langword="null"/> for the adaptive delay.</summary>
    /// <value>
    /// The default value is <see langword="null"/>: the delay is the <see cref="Percentile"/> of this client's recent attempt
    /// latencies, at least <see cref="MinDelay"/>. When set, it must be between zero and 1 day; zero sends every copy at once.
    /// </value>
    public TimeSpan? Delay { get; set; }

    /// <summary>Gets or sets the percentile of recent attempt latencies that the adaptive delay waits for.</summary>
    /// <value>The default value is 95. Must be between 50 and 99.9.</value>
    /// <remarks>
    /// The latencies are those of attempts that got a usable response, kept in a histogram of constant size (about 6 %
    /// resolution) that forgets old ones as new ones come. The adaptive delay sends no copy before 100 latencies are known.
    /// At the 95th percentile about one attempt in twenty is hedged, plus the slow ones.
    /// </remarks>
    public double Percentile { get; set; } = HttpResilienceDefaults.HedgingPercentile;

    /// <summary>Gets or sets the shortest adaptive delay.</summary>
    /// <value>The default value is 5 milliseconds. Must be between zero and 1 day.</value>
    /// <remarks>For a dependency that answers in well under a millisecond, hedging sooner would mostly double the load.</remarks>
    public TimeSpan MinDelay { get; set; } = HttpResilienceDefaults.HedgingMinDelay;
}
