using System.Collections.Concurrent;

namespace Http.Resilience;

/// <summary>
/// A timeout that also fires when an outer token does: a pooled source plus its link to the outer token. The one
/// shape each attempt, the limiter waits and the budget-bounded reads all need; dispose it to unlink and give the source back.
/// </summary>
/// <remarks>
/// A class, rented from a pool and given back by <see cref="Dispose"/>, so it cannot be copied: every holder of it sees the
/// one link that <see cref="Arm"/> makes, and disposing unlinks that link, whoever disposes. Use it in a <c>using</c>.
/// A second <see cref="Dispose"/> does nothing. Renting and returning touch only a per-thread spare in the common case,
/// so a request that needs one allocates nothing.
/// </remarks>
internal sealed class LinkedTimeout : IDisposable
{
    private const int MaxPooled = 256;
    private static readonly ConcurrentQueue<LinkedTimeout> Pool = new();
    private static int _pooled;

    [ThreadStatic]
    private static LinkedTimeout? t_spare;

    private CancellationTokenSource? _source;
    private TimeProvider _timeProvider = TimeProvider.System;
    private TimeSpan _timeout;
    private CancellationToken _outer;
    private CancellationTokenRegistration _link;
    private bool _rented;

    private LinkedTimeout()
    {
    }

    /// <summary>Gets the token to pass on: the outer token itself when the timeout is infinite.</summary>
    public CancellationToken Token => _source?.Token ?? _outer;

    /// <summary>Gets a value indicating whether this timeout (or the outer token, through the link) fired.</summary>
    public bool Fired => _source?.IsCancellationRequested == true;

    /// <summary>Starts the timeout now, linked to <paramref name="outer"/>.</summary>
    public static LinkedTimeout Start(TimeSpan timeout, TimeProvider timeProvider, CancellationToken outer)
    {
        var linked = Prepare(timeout, timeProvider, outer);
        linked.Arm(TimeSpan.Zero);
        return linked;
    }

    /// <summary>
    /// Prepares the timeout without starting it: its token can be handed out, but neither the timer nor the link to
    /// <paramref name="outer"/> exists until <see cref="Arm"/>. For an operation that may complete synchronously: one
    /// that does never waited, so it needs neither. The caller checks <paramref name="outer"/> before starting.
    /// </summary>
    public static LinkedTimeout Prepare(TimeSpan timeout, TimeProvider timeProvider, CancellationToken outer)
    {
        var linked = Rent();
        linked._rented = true;
        linked._timeProvider = timeProvider;
        linked._timeout = timeout;
        linked._outer = outer;
        linked._source = TimeMath.IsInfinite(timeout) ? null : TimeoutSourcePool.RentUnarmed(timeProvider);
        return linked;
    }

    /// <summary>
    /// Starts a prepared timeout once the operation turned out to wait: the timer gets what is left of the timeout after
    /// <paramref name="elapsed"/>, and the outer token is linked (if it already fired, the source is cancelled at once).
    /// </summary>
    public void Arm(TimeSpan elapsed)
    {
        if (_source is null)
        {
            return;
        }

        var left = _timeout - elapsed;
        _source.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
        _link = _outer.UnsafeRegister(CancelSource, _source);
    }

    /// <summary>Unlinks from the outer token, gives the source back and returns this instance to the pool.</summary>
    public void Dispose()
    {
        if (!_rented)
        {
            return;
        }

        _rented = false;
        _link.Dispose();
        _link = default;
        if (_source is not null)
        {
            TimeoutSourcePool.Return(_source, _timeProvider);
            _source = null;
        }

        _outer = default;
        _timeProvider = TimeProvider.System;
        Return(this);
    }

    private static void CancelSource(object? source) => ((CancellationTokenSource)source!).Cancel();

    private static LinkedTimeout Rent()
    {
        if (t_spare is { } spare)
        {
            t_spare = null;
            return spare;
        }

        if (Pool.TryDequeue(out var pooled))
        {
            Interlocked.Decrement(ref _pooled);
            return pooled;
        }

        return new LinkedTimeout();
    }

    private static void Return(LinkedTimeout linked)
    {
        if (t_spare is null)
        {
            t_spare = linked;
            return;
        }

        if (Interlocked.Increment(ref _pooled) > MaxPooled)
        {
            Interlocked.Decrement(ref _pooled);
            return; // left to the garbage collector
        }

        Pool.Enqueue(linked);
    }
}
