using System.Collections.Concurrent;

namespace Http.Resilience;

/// <summary>
/// Reuses the per-request timeout sources (the budget's and each attempt's) on the system clock, so the happy path does
/// not allocate a source, a timer and a registration list per request.
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

    public static CancellationTokenSource Rent(TimeSpan timeout, TimeProvider timeProvider)
    {
        if (!ReferenceEquals(timeProvider, TimeProvider.System))
        {
            return new CancellationTokenSource(timeout, timeProvider);
        }

        if (Pool.TryDequeue(out var pooled))
        {
            Interlocked.Decrement(ref _count);
            pooled.CancelAfter(timeout);
            return pooled;
        }

        return new CancellationTokenSource(timeout);
    }

    public static void Return(CancellationTokenSource source, TimeProvider timeProvider)
    {
        if (!ReferenceEquals(timeProvider, TimeProvider.System) || !source.TryReset())
        {
            source.Dispose(); // another clock, or it fired: never reused
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
