using System.Diagnostics;
using System.Threading.RateLimiting;

namespace Http.Resilience;

/// <summary>The long-lived permits of one dependency, kept in the registry.</summary>
/// <remarks>
/// <para>
/// Without a queue (<see cref="BulkheadOptions.MaxQueue"/> 0, the default) the permits are a plain counter taken with
/// one compare-and-swap: nothing to wait for, so nothing more is needed, and the happy path allocates nothing. With a
/// queue they are a <see cref="ConcurrencyLimiter"/>, which keeps the waiters in order and bounds their number.
/// </para>
/// <para>
/// The limits are fixed per <see cref="Generation"/>, so a reload that changes <see cref="BulkheadOptions.MaxConcurrency"/>
/// or <see cref="BulkheadOptions.MaxQueue"/> swaps in a new generation for new requests. The requests still holding a
/// permit of the old generation are charged to the new one: one of its own permits each while it has them, and the rest
/// without a permit (uncovered), which keeps it full. As old requests finish, the charge drops, uncovered ones first, so
/// a carried permit is given back only once fewer old requests remain than permits are carried for them: old and new
/// requests together never exceed the new limit. Chained reloads cascade: a generation's in-flight count includes what
/// it is charged for its predecessors, so a reload in between loses none of them.
/// </para>
/// <para>
/// Two races are closed rather than left to the next reload. A generation is published as replaced before its requests are
/// counted, and a request that took a permit of a generation that turns out to be replaced gives it back and asks the
/// current one (a request that was queued in the old generation does the same when its turn comes). Every release of a
/// replaced generation's permit re-checks the carried count under that generation's lock, so a permit returned while the
/// reload was counting is never left carried.
/// </para>
/// </remarks>
internal sealed class BulkheadState : AuthorityState
{
    private readonly Lock _lock = new();
    private Generation _current;
    private long _rejected;
    private int _retired;

    public BulkheadState(string clientName, string? authority, BulkheadOptions options)
    {
        ClientName = clientName;
        Authority = authority;
        _current = new Generation(options);
    }

    public string ClientName { get; }

    public string? Authority { get; }

    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Gets the newest generation.</summary>
    public Generation Current => Volatile.Read(ref _current);

    public Generation GetGeneration(BulkheadOptions options)
    {
        var current = Volatile.Read(ref _current);
        if (current.Matches(options))
        {
            return current;
        }

        lock (_lock)
        {
            if (!_current.Matches(options))
            {
                var previous = _current;
                var next = new Generation(options);
                previous.CarryOnto(next);
                Volatile.Write(ref _current, next);
            }

            return _current;
        }
    }

    /// <summary>Takes a free permit without waiting from the generation for <paramref name="options"/>.</summary>
    /// <param name="options">The request's options.</param>
    /// <param name="generation">The generation asked last: the permit's when one was taken, else the one whose queue to wait in.</param>
    /// <param name="permit">The permit, to give back to <paramref name="generation"/>.</param>
    public bool TryAcquire(BulkheadOptions options, out Generation generation, out Permit permit)
        => TryAcquireFrom(GetGeneration(options), out generation, out permit);

    /// <summary>
    /// Takes a free permit without waiting from <paramref name="start"/>, or from the newest generation when a reload
    /// replaced it meanwhile (the permit of a replaced generation is given back at once).
    /// </summary>
    public bool TryAcquireFrom(Generation start, out Generation generation, out Permit permit)
    {
        generation = start;
        while (generation.TryAcquire(out permit))
        {
            if (!generation.IsReplaced)
            {
                return true;
            }

            generation.Release(permit);
            generation = Current;
        }

        return false;
    }

    /// <summary>Gets a value indicating whether the map of per-authority bulkheads forgot this one: a permit taken from it must go back.</summary>
    public bool IsRetired => Volatile.Read(ref _retired) != 0;

    public void RecordRejection() => Interlocked.Increment(ref _rejected);

    /// <summary>Retires the bulkhead when no request is in flight or queued.</summary>
    /// <remarks>
    /// Marked retired first (a full fence), then checked: a request that takes a permit from now on sees the mark and gives
    /// it back; one that took it before is seen in flight here, and the bulkhead stays.
    /// </remarks>
    public override bool TryRetire()
    {
        Interlocked.Exchange(ref _retired, 1);
        var current = Current;
        if (current.InFlight == 0 && current.Queued == 0)
        {
            return true;
        }

        Volatile.Write(ref _retired, 0);
        return false;
    }

    public BulkheadSnapshot GetSnapshot()
    {
        var current = Volatile.Read(ref _current);
        return new BulkheadSnapshot(ClientName, Authority, current.MaxConcurrency, current.InFlight, current.Queued, Rejected);
    }

    /// <summary>A permit of one generation: a slot of its counter, or a lease of its limiter.</summary>
    internal readonly struct Permit
    {
        private readonly Generation? _counted;
        private readonly RateLimitLease? _lease;

        public Permit(Generation counted) => _counted = counted;

        public Permit(RateLimitLease lease) => _lease = lease;

        public void Release()
        {
            _lease?.Dispose();
            _counted?.ReleaseCounted();
        }
    }

    /// <summary>One set of limits, and what it charges its successor for the requests it admitted.</summary>
    internal sealed class Generation
    {
        private readonly Lock _carryLock = new();
        private readonly Stack<Permit> _carriedPermits = new(); // the successor's permits held for requests here (guarded by _carryLock)
        private int _carriedUncovered; // requests here charged to the successor without a permit: it was full (guarded by _carryLock)
        private int _uncovered; // older requests charged to this generation without a permit, for the same reason
        private Generation? _successor;
        private int _active; // the counter's permits in use (no queue only)

        public Generation(BulkheadOptions options)
        {
            MaxConcurrency = options.MaxConcurrency;
            MaxQueue = options.MaxQueue;
            if (MaxQueue > 0)
            {
                Limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
                {
                    PermitLimit = options.MaxConcurrency,
                    QueueLimit = options.MaxQueue,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                });
            }
        }

        /// <summary>Gets the limiter that queues waiters, or <see langword="null"/> when this generation has no queue.</summary>
        public ConcurrencyLimiter? Limiter { get; }

        public int MaxConcurrency { get; }

        public int MaxQueue { get; }

        /// <summary>Gets the permits in use, those held for an older generation's requests included.</summary>
        public int Active => Limiter is null
            ? Volatile.Read(ref _active)
            : MaxConcurrency - (int)(Limiter.GetStatistics()?.CurrentAvailablePermits ?? MaxConcurrency);

        /// <summary>Gets the requests this generation answers for: its permits in use, and older requests charged without one.</summary>
        public int InFlight => Active + Volatile.Read(ref _uncovered);

        public int Queued => (int)(Limiter?.GetStatistics()?.CurrentQueuedCount ?? 0);

        /// <summary>Gets a value indicating whether a reload replaced this generation: new requests belong to a newer one.</summary>
        public bool IsReplaced => Volatile.Read(ref _successor) is not null;

        /// <summary>Gets how many requests of this generation its successor is still charged for (for tests).</summary>
        public int Carried
        {
            get
            {
                lock (_carryLock)
                {
                    return _carriedPermits.Count + _carriedUncovered;
                }
            }
        }

        public bool Matches(BulkheadOptions options) => options.MaxConcurrency == MaxConcurrency && options.MaxQueue == MaxQueue;

        /// <summary>Takes a free permit without waiting, if there is one.</summary>
        /// <remarks>It does not look at whether the generation was replaced: <see cref="BulkheadState.TryAcquireFrom"/> does.</remarks>
        public bool TryAcquire(out Permit permit)
        {
            if (Limiter is not null)
            {
                var lease = Limiter.AttemptAcquire();
                if (lease.IsAcquired)
                {
                    // The limiter's lock is not a full fence: without one, the caller's check for a successor could be
                    // read before this permit is visible to the reload counting this generation's requests, and neither
                    // would see the other (the successor then admits one request too many).
                    Interlocked.MemoryBarrier();
                    permit = new Permit(lease);
                    return true;
                }

                lease.Dispose();
                permit = default;
                return false;
            }

            var active = Volatile.Read(ref _active);
            while (active < MaxConcurrency)
            {
                var seen = Interlocked.CompareExchange(ref _active, active + 1, active);
                if (seen == active)
                {
                    permit = new Permit(this);
                    return true;
                }

                active = seen;
            }

            permit = default;
            return false;
        }

        /// <summary>
        /// Marks this generation replaced by <paramref name="successor"/> and charges it for every request in flight here:
        /// with one of its permits each while it has them, and without (uncovered) for the rest.
        /// </summary>
        /// <remarks>
        /// Uncovered requests can only exist when the successor gave all its permits, and carried permits go back only
        /// once no uncovered request is left, so the successor admits nothing new until the old requests fit its limit.
        /// </remarks>
        public void CarryOnto(Generation successor)
        {
            lock (_carryLock)
            {
                // Published before counting (a full fence): a request that takes a permit here from now on sees that this
                // generation was replaced and gives it back; one that took it before is counted below.
                Interlocked.Exchange(ref _successor, successor);
                var inFlight = InFlight;
                while (_carriedPermits.Count < inFlight && successor.TryAcquire(out var carried))
                {
                    _carriedPermits.Push(carried);
                }

                _carriedUncovered = inFlight - _carriedPermits.Count;
                Interlocked.Add(ref successor._uncovered, _carriedUncovered);
            }
        }

        /// <summary>Returns a permit taken from this generation; once fewer requests remain here than the successor is charged for, the charge drops too.</summary>
        public void Release(Permit permit)
        {
            permit.Release();
            if (Volatile.Read(ref _successor) is not null)
            {
                DropExcessCharge();
            }
        }

        internal void ReleaseCounted() => Interlocked.Decrement(ref _active);

        /// <summary>
        /// While the successor is charged for more requests than remain here, drops one charge: an uncovered one first
        /// (the successor stays full), then a carried permit. The successor then checks its own charge, down the chain.
        /// </summary>
        private void DropExcessCharge()
        {
            var successor = Volatile.Read(ref _successor)!;
            while (true)
            {
                Permit excess = default;
                bool uncovered;
                lock (_carryLock)
                {
                    if (_carriedPermits.Count + _carriedUncovered <= InFlight)
                    {
                        return;
                    }

                    uncovered = _carriedUncovered > 0;
                    if (uncovered)
                    {
                        _carriedUncovered--;
                    }
                    else
                    {
                        excess = _carriedPermits.Pop();
                    }
                }

                if (!uncovered)
                {
                    successor.Release(excess);
                    continue;
                }

                var left = Interlocked.Decrement(ref successor._uncovered);
                Debug.Assert(left >= 0, "A successor is never uncharged more than it was charged.");
                if (successor.IsReplaced)
                {
                    successor.DropExcessCharge();
                }
            }
        }
    }
}
