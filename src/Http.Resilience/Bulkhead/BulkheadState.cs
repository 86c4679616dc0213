using System.Threading.RateLimiting;

namespace Http.Resilience;

/// <summary>The long-lived concurrency limiter of one dependency, kept in the registry.</summary>
/// <remarks>
/// A <see cref="ConcurrencyLimiter"/>'s limits are fixed at construction, so a reload that changes
/// <see cref="BulkheadOptions.MaxConcurrency"/> or <see cref="BulkheadOptions.MaxQueue"/> swaps in a new limiter for new
/// requests; permits held on the old one are still returned to it. For that moment the old and new in-flight requests
/// together may exceed the new limit.
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
        _current = Create(options);
    }

    public string ClientName { get; }

    public string? Authority { get; }

    public long Rejected => Interlocked.Read(ref _rejected);

    public ConcurrencyLimiter GetLimiter(BulkheadOptions options)
    {
        var current = Volatile.Read(ref _current);
        if (current.MaxConcurrency == options.MaxConcurrency && current.MaxQueue == options.MaxQueue)
        {
            return current.Limiter;
        }

        lock (_lock)
        {
            if (_current.MaxConcurrency != options.MaxConcurrency || _current.MaxQueue != options.MaxQueue)
            {
                Volatile.Write(ref _current, Create(options));
            }

            return _current.Limiter;
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

    private static Generation Create(BulkheadOptions options)
        => new(
            new ConcurrencyLimiter(new ConcurrencyLimiterOptions
            {
                PermitLimit = options.MaxConcurrency,
                QueueLimit = options.MaxQueue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            }),
            options.MaxConcurrency,
            options.MaxQueue);

    private sealed record Generation(ConcurrencyLimiter Limiter, int MaxConcurrency, int MaxQueue);
}
