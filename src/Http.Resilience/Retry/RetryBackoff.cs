namespace Http.Resilience;

/// <summary>Exponential backoff with full jitter.</summary>
/// <remarks>
/// The delay before retry <c>n</c> (0-based) is <c>random(0, min(maxDelay, baseDelay * 2^n))</c> ("full jitter", AWS
/// Architecture Blog, "Exponential Backoff And Jitter"): retries of many callers spread over the whole window instead of
/// arriving together. The cap is computed in floating point, so no attempt number overflows or goes negative.
/// </remarks>
internal static class RetryBackoff
{
    /// <param name="retryIndex">0 for the first retry.</param>
    /// <param name="baseDelay">The base of the exponent.</param>
    /// <param name="maxDelay">The cap.</param>
    /// <param name="random">A value in [0, 1).</param>
    public static TimeSpan Compute(int retryIndex, TimeSpan baseDelay, TimeSpan maxDelay, double random)
    {
        if (baseDelay <= TimeSpan.Zero || maxDelay <= TimeSpan.Zero || !(random > 0))
        {
            return TimeSpan.Zero;
        }

        var exponent = Math.Max(retryIndex, 0);
        var cap = Math.Min((double)maxDelay.Ticks, baseDelay.Ticks * Math.Pow(2, exponent));
        var ticks = (long)(cap * Math.Min(random, 1.0));
        return TimeSpan.FromTicks(Math.Min(ticks, maxDelay.Ticks));
    }
}
