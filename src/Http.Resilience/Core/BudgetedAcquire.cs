using System.Threading.RateLimiting;

namespace Http.Resilience;

/// <summary>Waits for a limiter's permit for at most a given time (the budget left, or less), never past it.</summary>
/// <remarks>Shared by the bulkhead's queue and the rate limit's wait for a token.</remarks>
internal static class BudgetedAcquire
{
    /// <summary>
    /// Returns the lease (acquired, or refused because the limiter's queue is full), or <see langword="null"/> when the
    /// wait ran out (or there was nothing left to wait). The caller's own cancellation surfaces as
    /// <see cref="OperationCanceledException"/>; anything else the limiter throws (a store that is down) is thrown as it
    /// came, for the layer to wrap.
    /// </summary>
    /// <remarks>
    /// The wait ends when it should even if the limiter ignores its token (a distributed one stuck behind a dead
    /// connection): the lease it may still hand out afterwards is disposed, so its permit is given back.
    /// </remarks>
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
            var pending = limiter.AcquireAsync(1, waiting.Token);
            if (pending.IsCompleted)
            {
                return await pending.ConfigureAwait(false);
            }

            var acquiring = pending.AsTask();
            var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (waiting.Token.UnsafeRegister(static state => ((TaskCompletionSource)state!).TrySetResult(), ended))
            {
                if (await Task.WhenAny(acquiring, ended.Task).ConfigureAwait(false) == acquiring)
                {
                    return await acquiring.ConfigureAwait(false);
                }
            }

            // The wait is over and the limiter has not answered: whatever it answers later is given back.
            _ = acquiring.ContinueWith(
                static task =>
                {
                    if (task.IsCompletedSuccessfully)
                    {
                        task.Result.Dispose();
                    }
                    else
                    {
                        _ = task.Exception;
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            context.CallerToken.ThrowIfCancellationRequested();
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }
        catch (OperationCanceledException) when (waiting.Fired && !context.CallerCancelled)
        {
            return null; // the wait (bounded by the budget) ran out, not the caller's patience
        }
    }
}
