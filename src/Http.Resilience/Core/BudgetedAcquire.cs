using System.Threading.RateLimiting;

namespace Http.Resilience;

/// <summary>Waits for a limiter's permit for at most a given time (the budget left, or less), never past it.</summary>
/// <remarks>Shared by the bulkhead's queue and the rate limit's wait for a token.</remarks>
internal static class BudgetedAcquire
{
    /// <summary>
    /// Returns the lease (acquired, or refused because the limiter's queue is full), or <see langword="null"/> when the
    /// wait ran out (or there was nothing left to wait). The caller's own cancellation surfaces as
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async ValueTask<RateLimitLease?> AcquireAsync(RateLimiter limiter, TimeSpan wait, ResilienceContext context, CancellationToken cancellationToken)
    {
        if (TimeMath.IsInfinite(wait))
        {
            return await limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        }

        if (wait <= TimeSpan.Zero)
        {
            return null;
        }

        using var waiting = LinkedTimeout.Start(wait, context.TimeProvider, cancellationToken);
        try
        {
            return await limiter.AcquireAsync(1, waiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.CallerCancelled)
        {
            return null; // the wait (bounded by the budget) ran out, not the caller's patience
        }
    }
}
