using System.Threading.RateLimiting;

namespace Http.Resilience;

/// <summary>The long-lived token bucket of one client, replenished by a <see cref="TimeProvider"/> timer (so tests drive it).</summary>
/// <remarks>A reload that changes the bucket's shape swaps in a new bucket; the old one is disposed.</remarks>
internal sealed class RateLimitState : IDisposable
{
    private readonly object _lock = new();
    private readonly TimeProvider _timeProvider;
    private Bucket? _current;

    public RateLimitState(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
    }

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
                Volatile.Write(ref _current, new Bucket(options, _timeProvider));
                previous?.Dispose();
            }

            return _current!.Limiter;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _current?.Dispose();
            _current = null;
        }
    }

    private sealed class Bucket : IDisposable
    {
        private readonly ITimer _timer;
        private readonly int _tokenLimit;
        private readonly int _tokensPerPeriod;
        private readonly TimeSpan _period;
        private readonly int _queueLimit;

        public Bucket(RateLimitOptions options, TimeProvider timeProvider)
        {
            _tokenLimit = options.TokenLimit;
            _tokensPerPeriod = options.TokensPerPeriod;
            _period = options.ReplenishmentPeriod;
            _queueLimit = options.MaxQueue;
            var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = _tokenLimit,
                TokensPerPeriod = _tokensPerPeriod,
                ReplenishmentPeriod = _period,
                QueueLimit = _queueLimit,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = false,
            });
            Limiter = limiter;
            _timer = timeProvider.CreateTimer(static state => ((TokenBucketRateLimiter)state!).TryReplenish(), limiter, _period, _period);
        }

        public TokenBucketRateLimiter Limiter { get; }

        public bool Matches(RateLimitOptions options)
            => options.TokenLimit == _tokenLimit && options.TokensPerPeriod == _tokensPerPeriod && options.ReplenishmentPeriod == _period && options.MaxQueue == _queueLimit;

        public void Dispose()
        {
            _timer.Dispose();
            Limiter.Dispose();
        }
    }
}
