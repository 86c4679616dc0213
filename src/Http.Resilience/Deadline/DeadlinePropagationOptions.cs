namespace Http.Resilience;

/// <summary>Options of deadline propagation: telling the dependency how long we will wait for it.</summary>
/// <remarks>
/// Off by default. When on, every attempt carries the header <see cref="HeaderName"/> with the time this attempt will be
/// waited for (the smaller of the attempt timeout and the budget left), minus <see cref="SafetyMargin"/>, in whole
/// milliseconds. A relative value, so clock skew between machines does not matter. A service built with
/// <c>Http.Resilience.AspNetCore</c>'s <c>UseDeadlinePropagation</c> reads it and makes its own outgoing calls start
/// with no more than that time left (timeout budgets cascade: a user waits 5 s, so A has 4 s, B 3 s and C 2 s).
/// </remarks>
public sealed class DeadlinePropagationOptions
{
    /// <summary>The default header name.</summary>
    public const string DefaultHeaderName = HttpResilienceDefaults.DeadlineHeaderName;

    /// <summary>Gets or sets a value indicating whether the time left is sent to the dependency.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the name of the header that carries the time left, in milliseconds.</summary>
    /// <value>The default value is <c>X-Request-Deadline-Ms</c>. Must be a valid HTTP header name.</value>
    public string HeaderName { get; set; } = DefaultHeaderName;

    /// <summary>Gets or sets what is taken off the time left before it is sent: the network and our own work around the call.</summary>
    /// <value>
    /// The default value is 100 milliseconds. Must be between zero and 1 day, and when propagation is on, at least a
    /// millisecond less than the attempt timeout (the header carries whole milliseconds).
    /// </value>
    public TimeSpan SafetyMargin { get; set; } = HttpResilienceDefaults.DeadlineSafetyMargin;

    /// <summary>Whether an attempt of <paramref name="timeout"/> still leaves the dependency a whole millisecond once <paramref name="margin"/> is taken off.</summary>
    internal static bool LeavesTime(TimeSpan timeout, TimeSpan margin) => timeout - margin >= TimeSpan.FromMilliseconds(1);
}
