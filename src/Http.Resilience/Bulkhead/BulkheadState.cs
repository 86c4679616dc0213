using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace Http.Resilience;

/// <summary>The long-lived concurrency limiter of one dependency, kept in the registry.</summary>
/// <remarks>
/// A <see cref="ConcurrencyLimiter"/>'s limits are fixed at construction, so a reload that changes
/// <see cref="BulkheadOptions.MaxConcurrency"/> or <see cref="BulkheadOptions.MaxQueue"/> swaps in a new limiter
/// (a new <see cref="Generation"/>) for new requests. In-flight permits are not lost: the new limiter is charged one
/// permit for each request still holding the old one (up to the new limit), and each is given back when that request
/// returns its old permit. So the new limit is never exceeded across a reload, and the active count stays true.
/// </remarks>
internal sealed class BulkheadState
{
    private readonly object _lock = new();
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
        var statistics = current.Limiter.GetStatistics();
        var active = statistics is null ? 0 : current.MaxConcurrency - (int)statistics.CurrentAvailablePermits;
        var queued = statistics is null ? 0 : (int)statistics.CurrentQueuedCount;
        return new BulkheadSnapshot(ClientName, Authority, current.MaxConcurrency, active, queued, Rejected);
    }

    /// <summary>One limiter and the permits it carries for requests admitted by the limiter it replaced.</summary>
    internal sealed class Generation
    {
        private readonly ConcurrentStack<RateLimitLease> _carriedOntoSuccessor = new();
        private Generation? _successor;

        public Generation(BulkheadOptions options)
        {
            MaxConcurrency = options.MaxConcurrency;
            MaxQueue = options.MaxQueue;
            Limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
            {
                PermitLimit = options.MaxConcurrency,
                QueueLimit = options.MaxQueue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
        }

        public ConcurrencyLimiter Limiter { get; }

        public int MaxConcurrency { get; }

        public int MaxQueue { get; }

        public bool Matches(BulkheadOptions options) => options.MaxConcurrency == MaxConcurrency && options.MaxQueue == MaxQueue;

        /// <summary>Charges <paramref name="successor"/> one permit per request in flight here (up to its limit).</summary>
        public void CarryOnto(Generation successor)
        {
            var inFlight = MaxConcurrency - (int)(Limiter.GetStatistics()?.CurrentAvailablePermits ?? MaxConcurrency);
            for (var i = 0; i < inFlight; i++)
            {
                var lease = successor.Limiter.AttemptAcquire();
                if (!lease.IsAcquired)
                {
                    lease.Dispose();
                    break;
                }

                _carriedOntoSuccessor.Push(lease);
            }

            Volatile.Write(ref _successor, successor);
        }

        /// <summary>Returns a permit taken from this generation, and the permit carried for it onto later generations.</summary>
        public void Release(RateLimitLease lease)
        {
            lease.Dispose();
            var generation = this;
            while (Volatile.Read(ref generation._successor) is { } successor && generation._carriedOntoSuccessor.TryPop(out var carried))
            {
                carried.Dispose();
                generation = successor;
            }
        }
    }
}
