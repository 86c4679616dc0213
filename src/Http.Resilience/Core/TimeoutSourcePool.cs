using System.Collections.Concurrent;

namespace Http.Resilience;

/// <summary>
/// Reuses the timeout sources of attempts, limiter waits and budget-bounded reads on the system clock, so a request does
/// not allocate a source, a timer and a registration list for each.
/// </summary>
/// <remarks>
/// A source goes back only if it never fired: <see cref="CancellationTokenSource.TryReset"/> then disarms its timer and
/// drops every registration left on it, so nothing of the old request can reach the next one. Sources on another
/// <see cref="TimeProvider"/> (tests' fake clocks) are never pooled. The pool is bounded.
/// </remarks>
internal static class TimeoutSourcePool
{
    private const int MaxPooled = 1024;
    private static readonly ConcurrentQueue<CancellationTokenSource> Pool = new();
    private static int _count;

    // One spare per thread, in front of the shared queue: an attempt that completes synchronously rents and returns its
    // source on the same thread, so the common case touches no shared state.
    [ThreadStatic]
    private static CancellationTokenSource? t_spare;

    /// <summary>Rents a source whose timer is not running: arm it with <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>.</summary>
    public static CancellationTokenSource RentUnarmed(TimeProvider timeProvider)
    {
        if (!ReferenceEquals(timeProvider, TimeProvider.System))
        {
            return new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider); // its timer is that clock's, not yet due
        }

        if (t_spare is { } spare)
        {
            t_spare = null;
            return spare;
        }

        if (Pool.TryDequeue(out var pooled))
        {
            Interlocked.Decrement(ref _count);
            return pooled;
        }

        return new CancellationTokenSource();
    }

    public static void Return(CancellationTokenSource source, TimeProvider timeProvider)
    {
        if (!ReferenceEquals(timeProvider, TimeProvider.System) || !source.TryReset())
        {
            source.Dispose(); // another clock, or it fired: never reused
            return;
        }

        if (t_spare is null)
        {
            t_spare = source;
            return;
        }

        if (Interlocked.Increment(ref _count) > MaxPooled)
        {
            Interlocked.Decrement(ref _count);
            source.Dispose();
            return;
        }

        Pool.Enqueue(source);
    }
}
