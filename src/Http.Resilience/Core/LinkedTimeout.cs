namespace Http.Resilience;

/// <summary>
/// A timeout that also fires when an outer token does: a pooled source plus its link to the outer token. The one
/// shape each attempt, the limiter waits and the budget-bounded reads all need; dispose it to unlink and give the source back.
/// </summary>
/// <remarks>
/// A mutable struct (it is armed in place by <see cref="Arm"/>): keep it in a plain local, never a <c>using</c> or
/// <see langword="readonly"/> one, and dispose it in a <see langword="finally"/>.
/// </remarks>
internal struct LinkedTimeout : IDisposable
{
    private readonly CancellationTokenSource? _source;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _timeout;
    private readonly CancellationToken _outer;
    private CancellationTokenRegistration _link;

    private LinkedTimeout(CancellationTokenSource? source, CancellationTokenRegistration link, TimeProvider timeProvider, TimeSpan timeout, CancellationToken outer)
    {
        _source = source;
        _link = link;
        _timeProvider = timeProvider;
        _timeout = timeout;
        _outer = outer;
    }

    /// <summary>Gets the token to pass on: the outer token itself when the timeout is infinite.</summary>
    public readonly CancellationToken Token => _source?.Token ?? _outer;

    /// <summary>Gets a value indicating whether this timeout (or the outer token, through the link) fired.</summary>
    public readonly bool Fired => _source?.IsCancellationRequested == true;

    /// <summary>Starts the timeout now, linked to <paramref name="outer"/>.</summary>
    public static LinkedTimeout Start(TimeSpan timeout, TimeProvider timeProvider, CancellationToken outer)
    {
        if (TimeMath.IsInfinite(timeout))
        {
            return new LinkedTimeout(null, default, timeProvider, timeout, outer);
        }

        var source = TimeoutSourcePool.Rent(timeout, timeProvider);
        return new LinkedTimeout(source, outer.UnsafeRegister(CancelSource, source), timeProvider, timeout, outer);
    }

    /// <summary>
    /// Prepares the timeout without starting it: its token can be handed out, but neither the timer nor the link to
    /// <paramref name="outer"/> exists until <see cref="Arm"/>. For an operation that may complete synchronously: one
    /// that does never waited, so it needs neither. The caller checks <paramref name="outer"/> before starting.
    /// </summary>
    public static LinkedTimeout Prepare(TimeSpan timeout, TimeProvider timeProvider, CancellationToken outer)
        => TimeMath.IsInfinite(timeout)
            ? new LinkedTimeout(null, default, timeProvider, timeout, outer)
            : new LinkedTimeout(TimeoutSourcePool.RentUnarmed(timeProvider), default, timeProvider, timeout, outer);

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

    private static void CancelSource(object? source) => ((CancellationTokenSource)source!).Cancel();

    public readonly void Dispose()
    {
        _link.Dispose();
        if (_source is not null)
        {
            TimeoutSourcePool.Return(_source, _timeProvider);
        }
    }
}
