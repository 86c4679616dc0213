namespace Http.Resilience;

/// <summary>
/// One attempt's or one logical request's outcome, classified once by <see cref="OutcomeClassifier"/>, with the view each
/// layer needs: the retry loop, the circuit, the fallback and the metrics read the same row of the same table.
/// </summary>
/// <param name="Kind">What it means to the retry loop.</param>
/// <param name="Cause">What happened: a response, or which failure.</param>
/// <param name="StatusCode">The response's status code, or 0 when there was no response.</param>
/// <param name="RetryRefused">Whether the response said, in a should-retry header, that it must not be retried.</param>
internal readonly record struct Outcome(OutcomeKind Kind, OutcomeCause Cause, int StatusCode, bool RetryRefused = false)
{
    /// <summary>Gets a value indicating whether the retry loop may send the request again.</summary>
    public bool IsRetryable => Kind is OutcomeKind.Transient or OutcomeKind.Throttled;

    /// <summary>Gets the <c>http.resilience.result</c> tag of the retry metric.</summary>
    public string RetryResultName => Kind switch
    {
        OutcomeKind.Success => "success",
        OutcomeKind.Throttled => "throttled",
        OutcomeKind.Transient => "transient",
        _ => "permanent",
    };

    /// <summary>Gets the <c>http.resilience.outcome</c> tag of the attempt duration metric.</summary>
    public string AttemptMetricName => Cause switch
    {
        OutcomeCause.Response => StatusCode < 400 ? "success" : "http_error",
        OutcomeCause.CallerCancelled => "cancelled",
        OutcomeCause.InnerCancelled or OutcomeCause.Deadline => "deadline",
        OutcomeCause.AttemptTimeout => "timeout",
        _ => "network_error",
    };

    /// <summary>
    /// How the circuit counts this outcome of a logical request: 408 and every 5xx (501 and 505 included), network errors,
    /// timeouts and a spent budget are failures; a success slower than <see cref="CircuitBreakerOptions.SlowCallDuration"/>
    /// is a failure too; 429 only with <see cref="CircuitBreakerOptions.CountTooManyRequestsAsFailure"/>. The caller's
    /// cancellation, the chain's own rejections and errors that say nothing about the dependency are not counted.
    /// </summary>
    public CircuitOutcome ForCircuit(CircuitBreakerOptions options, TimeSpan duration) => Cause switch
    {
        OutcomeCause.Response when StatusCode >= 500 || StatusCode == 408 => CircuitOutcome.Failure,
        OutcomeCause.Response when StatusCode == 429 => options.CountTooManyRequestsAsFailure ? CircuitOutcome.Failure : CircuitOutcome.Ignored,
        OutcomeCause.Response => options.SlowCallDuration is { } slow && StatusCode < 400 && duration > slow ? CircuitOutcome.Failure : CircuitOutcome.Success,
        OutcomeCause.InnerCancelled or OutcomeCause.AttemptTimeout or OutcomeCause.Deadline or OutcomeCause.NetworkError or OutcomeCause.OtherTimeout => CircuitOutcome.Failure,
        _ => CircuitOutcome.Ignored,
    };

    /// <summary>Gets why a fallback would be served for this outcome, or <see langword="null"/> when none is (a usable response, the caller's cancellation).</summary>
    public FallbackReason? FallbackReason => Cause switch
    {
        OutcomeCause.Response => StatusCode >= 500 ? Http.Resilience.FallbackReason.ServerError : null,
        OutcomeCause.CircuitOpen => Http.Resilience.FallbackReason.CircuitOpen,
        OutcomeCause.BulkheadRejected => Http.Resilience.FallbackReason.BulkheadRejected,
        OutcomeCause.RateLimited => Http.Resilience.FallbackReason.RateLimited,
        OutcomeCause.Throttled => Http.Resilience.FallbackReason.Throttled,
        OutcomeCause.Deadline or OutcomeCause.InnerCancelled => Http.Resilience.FallbackReason.DeadlineExceeded,
        OutcomeCause.AttemptTimeout or OutcomeCause.OtherTimeout => Http.Resilience.FallbackReason.Timeout,
        OutcomeCause.NetworkError => Http.Resilience.FallbackReason.NetworkError,
        _ => null,
    };
}
