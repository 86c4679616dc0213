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
}
