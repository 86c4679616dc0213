namespace Http.Resilience.AspNetCore;

/// <summary>Options of the incoming side of deadline propagation.</summary>
public sealed class IncomingDeadlineOptions
{
    /// <summary>Gets or sets the header that carries the caller's time left, in milliseconds.</summary>
    /// <value>The default value is <c>X-Request-Deadline-Ms</c>, the name the outgoing side sends by default.</value>
    public string HeaderName { get; set; } = DeadlinePropagationOptions.DefaultHeaderName;

    /// <summary>Gets or sets the deadline of a request that carries none (an endpoint's own <c>WithDeadline</c> wins).</summary>
    /// <value>The default value is <see langword="null"/>: such requests get no deadline.</value>
    public TimeSpan? DefaultDeadline { get; set; }

    /// <summary>
    /// Gets or sets the response header that tells the caller not to retry (<c>false</c>), sent on a 5xx answer when one of
    /// the request's own outgoing Http.Resilience calls already gave up (retried to exhaustion, retry budget empty, circuit
    /// open, or told not to retry). <see langword="null"/> or empty turns the signal off.
    /// </summary>
    /// <value>The default value is <c>X-Should-Retry</c>, a header the outgoing side honours by default.</value>
    public string? ShouldRetryHeaderName { get; set; } = HttpResilienceDefaults.ShouldRetryHeaderName;
}
