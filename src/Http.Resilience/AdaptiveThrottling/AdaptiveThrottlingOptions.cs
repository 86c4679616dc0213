namespace Http.Resilience;

/// <summary>Options of client-side adaptive throttling (Google SRE's "Handling Overload").</summary>
/// <remarks>
/// Over a sliding <see cref="Window"/>, the client counts its requests and the ones the dependency accepted (any answer
/// but 429 or 503; a timeout or network error is not an accept), and rejects a new request locally, without sending it,
/// with probability <c>max(0, (requests - K * accepts) / (requests + 1))</c>. A healthy dependency accepts nearly
/// everything and nothing is rejected; an overloaded one that accepts 100 requests a second receives about
/// <c>K * 100</c>, however many the client is asked to send, so the client stops adding to the overload it is measuring.
/// Rejected requests fail with <see cref="AdaptiveThrottleRejectedException"/> (or get the fallback, when one is on).
/// </remarks>
public sealed class AdaptiveThrottlingOptions
{
    /// <summary>Gets or sets a value indicating whether the client throttles itself.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets how many requests per accepted one the client keeps sending (SRE's K).</summary>
    /// <value>The default value is 2. Must be between 1 and 100: lower rejects more eagerly, higher wastes more of the dependency's capacity on rejections.</value>
    public double K { get; set; } = HttpResilienceDefaults.AdaptiveThrottlingK;

    /// <summary>Gets or sets the sliding window over which requests and accepts are counted.</summary>
    /// <value>The default value is 2 minutes. Must be between 1 second and 1 hour.</value>
    public TimeSpan Window { get; set; } = HttpResilienceDefaults.AdaptiveThrottlingWindow;
}
