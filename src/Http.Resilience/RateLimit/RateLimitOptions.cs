using System.Threading.RateLimiting;

namespace Http.Resilience;

/// <summary>Options of the optional outbound rate limit: a token bucket for providers with published quotas.</summary>
/// <remarks>
/// Off by default. It sits outside the bulkhead. A request that finds no token waits for one within the budget left
/// (at most <see cref="MaxQueue"/> requests wait); when none arrives in time, or the queue is full, it fails with
/// <see cref="RateLimitRejectedException"/> and nothing is sent.
/// </remarks>
public sealed class RateLimitOptions
{
    /// <summary>Gets or sets a value indicating whether outbound requests are rate limited.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the size of the bucket: the largest burst.</summary>
    /// <value>The default value is 10. Must be at least 1.</value>
    public int TokenLimit { get; set; } = HttpResilienceDefaults.RateLimitTokenLimit;

    /// <summary>Gets or sets the tokens added every <see cref="ReplenishmentPeriod"/>.</summary>
    /// <value>The default value is 10. Must be at least 1.</value>
    public int TokensPerPeriod { get; set; } = HttpResilienceDefaults.RateLimitTokensPerPeriod;

    /// <summary>Gets or sets how often tokens are added.</summary>
    /// <value>The default value is 1 second. Must be positive and at most 1 day.</value>
    public TimeSpan ReplenishmentPeriod { get; set; } = HttpResilienceDefaults.RateLimitReplenishmentPeriod;

    /// <summary>Gets or sets the most requests allowed to wait for a token.</summary>
    /// <value>The default value is 100. Must be zero or more.</value>
    public int MaxQueue { get; set; } = HttpResilienceDefaults.RateLimitMaxQueue;

    // A field, not a property: the configuration binder (and its source generator) must never see it.
    private RateLimiter? _customLimiter;

    /// <summary>Uses <paramref name="limiter"/> instead of the token bucket, for example a distributed one. Code only.</summary>
    /// <param name="limiter">The limiter. The chain does not own it and never disposes it.</param>
    /// <returns>These options, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="limiter"/> is <see langword="null"/>.</exception>
    /// <remarks>A method rather than a property, so that configuration binding never sees it.</remarks>
    public RateLimitOptions UseLimiter(RateLimiter limiter)
    {
        ArgumentNullException.ThrowIfNull(limiter);
        _customLimiter = limiter;
        return this;
    }

    /// <summary>Gets the limiter set by <see cref="UseLimiter"/>, if any.</summary>
    internal RateLimiter? GetCustomLimiter() => _customLimiter;
}
