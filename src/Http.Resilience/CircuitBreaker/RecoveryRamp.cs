using System.Diagnostics;

namespace Http.Resilience;

/// <summary>
/// Limits the requests in flight through a circuit that has just closed, so the callers it turned away do not all come
/// back at once: the limit grows in a straight line from a tenth of the bulkhead's limit (at least one) to all of it over
/// the ramp's length (Envoy's slow start ramps a host back in the same way). Requests over the limit wait in order of
/// arrival and are let in as requests finish or as the limit grows.
/// </summary>
/// <remarks>
/// The way in costs one volatile read once the ramp is over. Only the requests the ramp let in are counted, and each of
/// them leaves once (<see cref="Exit"/>). The length and the full limit come from the options of the requests asking
/// (a reload during a ramp takes effect at the next request); the timer that lets waiters in as the limit grows uses the
/// last ones seen.
/// </remarks>
internal sealed class RecoveryRamp
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _timeProvider;
    private readonly Queue<TaskCompletionSource<bool>> _waiters = new();
    private volatile bool _active;
    private long _started;
    private TimeSpan _length;
    private int _full;
    private int _inFlight;
    private int _waiting; // waiters that have neither got room nor given up
    private ITimer? _timer;

    public RecoveryRamp(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
    }

    /// <summary>Gets a value indicating whether the ramp is on: requests must ask it for room.</summary>
    public bool IsActive => _active;

    /// <summary>Starts a ramp at <paramref name="timestamp"/> (the circuit's close).</summary>
    public void Start(long timestamp)
    {
        lock (_lock)
        {
            _started = timestamp;
            _active = true;
        }
    }

    /// <summary>Gets the current limit, or <see langword="null"/> when no ramp is on (for metrics and health data).</summary>
    public int? CurrentLimit
    {
        get
        {
            lock (_lock)
            {
                return _active && _length > TimeSpan.Zero ? Limit_NeedsLock(_timeProvider.GetTimestamp()) : null;
            }
        }
    }

    /// <summary>Takes room without waiting, or says there is none.</summary>
    /// <param name="length">The ramp's length, from the request's options (zero: no ramp).</param>
    /// <param name="full">The limit the ramp ends at: the bulkhead's.</param>
    /// <param name="counted"><see langword="true"/> when the request took room and must <see cref="Exit"/>.</param>
    /// <returns><see langword="false"/> when the request must wait.</returns>
    public bool TryEnter(TimeSpan length, int full, out bool counted)
    {
        lock (_lock)
        {
            _length = length;
            _full = full;
            var now = _timeProvider.GetTimestamp();
            if (!Refresh_NeedsLock(now))
            {
                counted = false;
                return true; // the ramp is over
            }

            if (_waiting == 0 && _inFlight < Limit_NeedsLock(now))
            {
                _inFlight++;
                counted = true;
                return true;
            }

            counted = false;
            return false;
        }
    }

    /// <summary>Waits for room for at most <paramref name="maxWait"/>.</summary>
    /// <param name="maxWait">The longest wait: the request's budget left.</param>
    /// <param name="capacity">
    /// The most requests the ramp holds, in flight and waiting (the bulkhead's limit and queue): a request beyond it is
    /// turned away at once, as the full bulkhead would turn it away, rather than wait out its whole budget in a queue
    /// that only grows.
    /// </param>
    /// <param name="cancellationToken">The caller's token.</param>
    public async ValueTask<RampEntry> EnterAsync(TimeSpan maxWait, int capacity, CancellationToken cancellationToken)
    {
        TaskCompletionSource<bool> waiter;
        lock (_lock)
        {
            var now = _timeProvider.GetTimestamp();
            if (!Refresh_NeedsLock(now))
            {
                return RampEntry.Over;
            }

            if (_inFlight + _waiting >= capacity)
            {
                return RampEntry.Full;
            }

            waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue(waiter);
            _waiting++;
            Admit_NeedsLock(now);
        }

        try
        {
            await waiter.Task.WaitAsync(maxWait, _timeProvider, cancellationToken).ConfigureAwait(false);
            return RampEntry.Admitted;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // Given up: unless it got room at the same moment, it leaves the queue (it is skipped when its turn comes).
            bool gaveUp;
            lock (_lock)
            {
                gaveUp = waiter.TrySetResult(false);
                if (gaveUp)
                {
                    _waiting--;
                }
            }

            if (ex is OperationCanceledException)
            {
                if (!gaveUp)
                {
                    Exit();
                }

                throw;
            }

            return gaveUp ? RampEntry.TimedOut : RampEntry.Admitted;
        }
    }

    /// <summary>Gives back the room a request took.</summary>
    public void Exit()
    {
        lock (_lock)
        {
            _inFlight--;
            Debug.Assert(_inFlight >= 0, "Only requests the ramp let in leave it.");
            if (_waiters.Count > 0)
            {
                Admit_NeedsLock(_timeProvider.GetTimestamp());
            }
        }
    }

    /// <summary>Ends the ramp once its length has passed (letting every waiter in); says whether it is still on.</summary>
    private bool Refresh_NeedsLock(long now)
    {
        if (!_active)
        {
            return false;
        }

        if (_length > TimeSpan.Zero && _timeProvider.GetElapsedTime(_started, now) < _length)
        {
            return true;
        }

        _active = false;
        while (_waiters.TryDequeue(out var waiter))
        {
            if (waiter.TrySetResult(true))
            {
                _inFlight++;
                _waiting--;
            }
        }

        _timer?.Dispose();
        _timer = null;
        return false;
    }

    private int First => Math.Max(1, (int)(_full * HttpResilienceDefaults.RampStartShare));

    /// <summary>The limit at <paramref name="now"/>: whole requests, rounded down, in integer arithmetic so the timer and the limit agree.</summary>
    private int Limit_NeedsLock(long now)
    {
        var first = First;
        var elapsed = _timeProvider.GetElapsedTime(_started, now);
        if (elapsed >= _length || _full <= first)
        {
            return _full;
        }

        return first + (int)((Int128)elapsed.Ticks * (_full - first) / _length.Ticks);
    }

    /// <summary>Lets in as many waiters as the limit allows, and sets the timer for the next growth while some still wait.</summary>
    private void Admit_NeedsLock(long now)
    {
        if (!Refresh_NeedsLock(now))
        {
            return;
        }

        var limit = Limit_NeedsLock(now);
        while (_inFlight < limit && _waiters.TryDequeue(out var waiter))
        {
            if (waiter.TrySetResult(true))
            {
                _inFlight++;
                _waiting--;
            }
        }

        if (_waiters.Count == 0)
        {
            return;
        }

        // The limit reaches _inFlight + 1 at this point of the ramp (rounded up to a whole tick): wake up then.
        var first = First;
        var steps = Math.Min(_inFlight + 1 - first, _full - first);
        var at = _full > first ? (long)((((Int128)_length.Ticks * steps) + (_full - first - 1)) / (_full - first)) : _length.Ticks;
        var due = TimeSpan.FromTicks(at) - _timeProvider.GetElapsedTime(_started, now);
        if (due < TimeSpan.FromMilliseconds(1))
        {
            due = TimeSpan.FromMilliseconds(1);
        }

        if (_timer is null)
        {
            _timer = _timeProvider.CreateTimer(static state => ((RecoveryRamp)state!).OnTimer(), this, due, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _timer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnTimer()
    {
        lock (_lock)
        {
            Admit_NeedsLock(_timeProvider.GetTimestamp());
        }
    }
}
