using System.Threading.RateLimiting;

namespace Http.Resilience;

/// <summary>Options of the bulkhead layer: a concurrency limit per dependency.</summary>
/// <remarks>
/// Time spent waiting in the bulkhead queue counts against the request's deadline: a queued request waits at most the
/// smaller of <see cref="MaxQueueWait"/> and the budget left, then fails with <see cref="BulkheadRejectedException"/>.
/// Each client has its own bulkhead, so a saturated dependency never delays another client. The connection pool must hold
/// at least <see cref="MaxConcurrency"/> connections, or the queue just moves from the bulkhead into the pool: when the primary handler allows fewer connections per
/// server, a warning is logged once per client when its handler is built.
/// </remarks>
public sealed class BulkheadOptions
{
    /// <summary>Gets or sets a value indicating whether the bulkhead is on.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the most requests allowed in flight to this dependency at once.</summary>
    /// <value>The default value is 100. Must be at least 1. The connection pool must allow at least as many connections.</value>
    public int MaxConcurrency { get; set; } = HttpResilienceDefaults.MaxConcurrency;

    /// <summary>Gets or sets the most requests allowed to wait for a permit.</summary>
    /// <value>The default value is 0: reject when full, do not queue. Must be zero or more.</value>
    public int MaxQueue { get; set; } = HttpResilienceDefaults.MaxQueue;

    /// <summary>Gets or sets the longest a queued request waits for a permit.</summary>
    /// <value>The default value is <see cref="Timeout.InfiniteTimeSpan"/>: bounded by the budget left only. Otherwise must be positive and at most 1 day.</value>
    public TimeSpan MaxQueueWait { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>Gets or sets a value indicating whether each authority (scheme, host and port) gets its own bulkhead.</summary>
    /// <value>The default value is <see langword="false"/>: one bulkhead per client.</value>
    public bool PerAuthority { get; set; }

    /// <summary>Gets or sets how many per-authority bulkheads a client keeps before idle ones are evicted.</summary>
    /// <value>The default value is 1000. Must be between 1 and 1,000,000. Used only with <see cref="PerAuthority"/>.</value>
    /// <remarks>
    /// Once a client holds a quarter more bulkheads than this, the ones not used since the previous sweep and with no
    /// request in flight or queued are forgotten. A bulkhead with requests in flight is never evicted.
    /// </remarks>
    public int MaxAuthorities { get; set; } = HttpResilienceDefaults.MaxAuthorities;

    // A field, not a property: the configuration binder (and its source generator) must never see it.
    private RateLimiter? _customLimiter;

    /// <summary>
    /// Puts <paramref name="limiter"/>, a concurrency limit shared beyond this process (a fleet-wide one), in front of the
    /// local bulkhead, which stays as a backstop. Code only.
    /// </summary>
    /// <param name="limiter">The limiter: one permit per request, held until the request ends. The chain does not own it and never disposes it.</param>
    /// <returns>These options, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="limiter"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// It gets the built-in limits' rules: a request with no permit waits at most the smaller of
    /// <see cref="MaxQueueWait"/> and the budget left (even if the limiter ignores its token), whatever the limiter throws
    /// becomes a <see cref="BulkheadRejectedException"/> with it inside, and the permit is given back on every path.
    /// A method rather than a property, so that configuration binding never sees it.
    /// </remarks>
    public BulkheadOptions UseLimiter(RateLimiter limiter)
    {
        ArgumentNullException.ThrowIfNull(limiter);
        _customLimiter = limiter;
        return this;
    }

    /// <summary>Gets the limiter set by <see cref="UseLimiter"/>, if any.</summary>
    internal RateLimiter? GetCustomLimiter() => _customLimiter;
}
