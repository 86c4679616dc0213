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

/// <summary>
/// A timeout that also fires when an outer token does: a pooled source plus its link to the outer token. The one
/// shape the budget, each attempt and the limiter waits all need; dispose it to unlink and give the source back.
/// </summary>
internal readonly struct LinkedTimeout : IDisposable
{
    private readonly CancellationTokenSource? _source;
    private readonly CancellationTokenRegistration _link;
    private readonly TimeProvider _timeProvider;

    private LinkedTimeout(CancellationTokenSource? source, CancellationTokenRegistration link, TimeProvider timeProvider, CancellationToken token)
    {
        _source = source;
        _link = link;
        _timeProvider = timeProvider;
        Token = token;
    }

    /// <summary>Gets the token to pass on: the outer token itself when the timeout is infinite.</summary>
    public CancellationToken Token { get; }

    /// <summary>Gets a value indicating whether this timeout (or the outer token, through the link) fired.</summary>
    public bool Fired => _source?.IsCancellationRequested == true;

    public static LinkedTimeout Start(TimeSpan timeout, TimeProvider timeProvider, CancellationToken outer)
    {
        if (TimeMath.IsInfinite(timeout))
        {
            return new LinkedTimeout(null, default, timeProvider, outer);
        }

        var source = TimeoutSourcePool.Rent(timeout, timeProvider);
        var link = outer.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), source);
        return new LinkedTimeout(source, link, timeProvider, source.Token);
    }

    public void Dispose()
    {
        _link.Dispose();
        if (_source is not null)
        {
            TimeoutSourcePool.Return(_source, _timeProvider);
        }
    }
}
