namespace Http.Resilience;

/// <summary>Options of the retry budget: how many retries a client may send, relative to its requests.</summary>
/// <remarks>
/// Every logical request deposits <see cref="Ratio"/> of a retry; every retry withdraws one. The balance counts over a
/// sliding <see cref="Window"/>, plus a reserve of <see cref="MinRetriesPerSecond"/> times the window's seconds, so a
/// client with little traffic can still retry. When the budget is empty a retry is skipped and the last outcome is
/// returned, as if the retries had run out. So under a sustained outage a client sends at most about
/// <c>1 + Ratio</c> attempts per request (plus the reserve), instead of <c>1 + MaxRetries</c>: retries cannot multiply
/// the load on a dependency that is already failing.
/// </remarks>
public sealed class RetryBudgetOptions
{
    /// <summary>Gets or sets a value indicating whether retries draw on the budget.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the retries allowed per logical request, over the window.</summary>
    /// <value>The default value is 0.2 (one retry per five requests). Must be between 0 and 100.</value>
    public double Ratio { get; set; } = HttpResilienceDefaults.RetryBudgetRatio;

    /// <summary>Gets or sets the retries per second allowed whatever the traffic, so a quiet client still retries.</summary>
    /// <value>The default value is 10. Must be between 0 and 1,000,000.</value>
    public int MinRetriesPerSecond { get; set; } = HttpResilienceDefaults.RetryBudgetMinRetriesPerSecond;

    /// <summary>Gets or sets the sliding window over which deposits and withdrawals count.</summary>
    /// <value>The default value is 10 seconds. Must be between 1 second and 1 hour.</value>
    public TimeSpan Window { get; set; } = HttpResilienceDefaults.RetryBudgetWindow;
}
