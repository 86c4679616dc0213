using System.Collections.Concurrent;
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
/// or <see cref="BulkheadOptions.MaxQueue"/> swaps in a new generation for new requests. In-flight permits are not lost:
/// the new generation is charged one permit for each request still holding one of the old (up to the new limit), and
/// each is given back when that request returns its old permit. So the new limit is never exceeded across a reload, and
/// the active count stays true.
/// </para>
/// </remarks>
internal sealed class BulkheadState
{
    private readonly Lock _lock = new();
    private Generation _current;
    private long _rejected;

    public BulkheadState(string clientName, string? authority, BulkheadOptions options)
    {
        ClientName = clientName;
        Authority = authority;
        _current = new Generation(options);
    }

    public string ClientName { get; }

    public string? Authority { get; }

    public long Rejected => Interlocked.Read(ref _rejected);

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

    public void RecordRejection() => Interlocked.Increment(ref _rejected);

    public BulkheadSnapshot GetSnapshot()
    {
        var current = Volatile.Read(ref _current);
        return new BulkheadSnapshot(ClientName, Authority, current.MaxConcurrency, current.Active, current.Queued, Rejected);
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

    /// <summary>One set of limits, and the permits it carries for requests admitted by the generation it replaced.</summary>
    internal sealed class Generation
    {
        private readonly ConcurrentStack<Permit> _carriedOntoSuccessor = new();
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

        public int Active => Limiter is null
            ? Volatile.Read(ref _active)
            : MaxConcurrency - (int)(Limiter.GetStatistics()?.CurrentAvailablePermits ?? MaxConcurrency);

        public int Queued => (int)(Limiter?.GetStatistics()?.CurrentQueuedCount ?? 0);

        public bool Matches(BulkheadOptions options) => options.MaxConcurrency == MaxConcurrency && options.MaxQueue == MaxQueue;

        /// <summary>Takes a free permit without waiting, if there is one.</summary>
        public bool TryAcquire(out Permit permit)
        {
            if (Limiter is not null)
            {
                var lease = Limiter.AttemptAcquire();
                if (lease.IsAcquired)
                {
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

        /// <summary>Charges <paramref name="successor"/> one permit per request in flight here (up to its limit).</summary>
        public void CarryOnto(Generation successor)
        {
            var inFlight = Active;
            for (var i = 0; i < inFlight && successor.TryAcquire(out var carried); i++)
            {
                _carriedOntoSuccessor.Push(carried);
            }

            Volatile.Write(ref _successor, successor);
        }

        /// <summary>Returns a permit taken from this generation, and the permit carried for it onto later generations.</summary>
        public void Release(Permit permit)
        {
            permit.Release();
            var generation = this;
            while (Volatile.Read(ref generation._successor) is { } successor && generation._carriedOntoSuccessor.TryPop(out var carried))
            {
                carried.Release();
                generation = successor;
            }
        }

        internal void ReleaseCounted() => Interlocked.Decrement(ref _active);
    }
}
