using System.Threading.RateLimiting;

namespace Http.Resilience;

/// <summary>The long-lived token bucket of one client.</summary>
/// <remarks>
/// The platform's <see cref="TokenBucketRateLimiter"/> measures elapsed time itself (it takes no <see cref="TimeProvider"/>),
/// even when replenished by hand, so it replenishes on its own timer. A reload that changes the bucket's shape swaps in a
/// new bucket; the old one is disposed, which fails the requests still waiting on it (they are rejected, never sent).
/// </remarks>
internal sealed class RateLimitState : IDisposable
{
    private readonly Lock _lock = new();
    private Bucket? _current;
    private int _waiting; // requests waiting for a permit of a limiter the user plugged in

    /// <summary>Takes a place among the requests waiting for a user's limiter, if fewer than <paramref name="maxQueue"/> wait.</summary>
    public bool TryEnterQueue(int maxQueue)
    {
        if (Interlocked.Increment(ref _waiting) <= maxQueue)
        {
            return true;
        }

        Interlocked.Decrement(ref _waiting);
        return false;
    }

    /// <summary>Gives back a place taken with <see cref="TryEnterQueue"/>.</summary>
    public void LeaveQueue() => Interlocked.Decrement(ref _waiting);

    public RateLimiter GetLimiter(RateLimitOptions options)
    {
        var current = Volatile.Read(ref _current);
        if (current is not null && current.Matches(options))
        {
            return current.Limiter;
        }

        lock (_lock)
        {
            if (_current is null || !_current.Matches(options))
            {
                var previous = _current;
                Volatile.Write(ref _current, new Bucket(options));
                previous?.Limiter.Dispose();
            }

            return _current!.Limiter;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _current?.Limiter.Dispose();
            _current = null;
        }
    }

    private sealed class Bucket(RateLimitOptions options)
    {
        private readonly int _tokenLimit = options.TokenLimit;
        private readonly int _tokensPerPeriod = options.TokensPerPeriod;
        private readonly TimeSpan _period = options.ReplenishmentPeriod;
        private readonly int _queueLimit = options.MaxQueue;

        public TokenBucketRateLimiter Limiter { get; } = new(new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.TokenLimit,
            TokensPerPeriod = options.TokensPerPeriod,
            ReplenishmentPeriod = options.ReplenishmentPeriod,
            QueueLimit = options.MaxQueue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });

        public bool Matches(RateLimitOptions options)
            => options.TokenLimit == _tokenLimit && options.TokensPerPeriod == _tokensPerPeriod && options.ReplenishmentPeriod == _period && options.MaxQueue == _queueLimit;
    }
}
