using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace Http.Resilience.Redis;

/// <summary>At most N requests in flight across the fleet: a leased semaphore in one Redis sorted set (see <see cref="FleetConcurrencyLimitOptions"/>).</summary>
internal sealed class FleetConcurrencyLimiter : FleetLimiter
{
    // KEYS[1]: the set of leases, scored by expiry (ms, server clock). ARGV: limit, time to live (ms), lease id.
    // Expired leases (a crashed replica's) are dropped first. Returns {1, 0} when the lease is taken, else {0, ms until
    // the first lease expires}.
    private const string AcquireScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        local ttl = tonumber(ARGV[2])
        if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
          redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
          redis.call('PEXPIRE', KEYS[1], ttl + 1000)
          return {1, 0}
        end
        local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        return {0, math.max(0, tonumber(first[2]) - now)}
        """;

    // KEYS[1]: the set. ARGV: time to live (ms), then the ids of the leases this replica still holds: each gets a new
    // expiry, if it is still there (XX: a lease that expired meanwhile is not brought back).
    private const string RenewScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local ttl = tonumber(ARGV[1])
        for i = 2, #ARGV do
          redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i])
        end
        redis.call('PEXPIRE', KEYS[1], ttl + 1000)
        return #ARGV - 1
        """;

    private const string ReleaseScript = "return redis.call('ZREM', KEYS[1], ARGV[1])";

    /// <summary>The longest pause before a request without a permit asks again: short, so freed permits are taken soon.</summary>
    private static readonly TimeSpan MaxPause = TimeSpan.FromMilliseconds(25);

    private readonly FleetConcurrencyLimitOptions _options;
    private readonly ConcurrentDictionary<string, byte> _held = new(StringComparer.Ordinal);
    private readonly RedisKey[] _keys;
    private readonly ITimer _renewal;
    private int _renewing;

    public FleetConcurrencyLimiter(FleetStore store, FleetConcurrencyLimitOptions options)
        : base(store, options, LocalShareOf(options), "concurrency limit")
    {
        _options = options;
        _keys = [store.Key];
        var every = options.LeaseTtl / 3;
        _renewal = store.TimeProvider.CreateTimer(static state => ((FleetConcurrencyLimiter)state!).Renew(), this, every, every);
    }

    /// <summary>Gets the leases of Redis this replica holds now (for tests and diagnostics).</summary>
    internal int Held => _held.Count;

    /// <summary>Stops renewing and forgets the leases held, without giving them back: what a crash does (for tests).</summary>
    internal void StopRenewingAsIfCrashed()
    {
        _renewal.Dispose();
        _held.Clear();
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N");
        RedisValue[] values = [_options.MaxConcurrency, (long)_options.LeaseTtl.TotalMilliseconds, id];
        while (true)
        {
            RedisResult? result;
            try
            {
                result = await Store.EvaluateAsync(AcquireScript, _keys, values, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _ = Store.TryEvaluateAsync(ReleaseScript, _keys, [id]); // the script may have run: no lease may stay without an owner
                throw;
            }

            if (result is null)
            {
                // Redis did not answer in time, but the script may have run and taken the lease: give it back, or it would
                // hold a permit of the fleet for its whole time to live.
                _ = Store.TryEvaluateAsync(ReleaseScript, _keys, [id]);
                return await WithoutStoreAsync(permitCount, cancellationToken).ConfigureAwait(false);
            }

            var answer = (RedisResult[])result!;
            if ((long)answer[0] == 1)
            {
                _held[id] = 0;
                return new Lease(this, id);
            }

            // No permit: ask again after a short pause, jittered so the fleet's waiters take turns rather than collide;
            // never longer than until the first lease would expire. The bulkhead ends the wait with the request's budget.
            var untilExpiry = TimeSpan.FromMilliseconds((long)answer[1]);
            var pause = TimeSpan.FromMilliseconds(MaxPause.TotalMilliseconds * (0.4 + (Random.Shared.NextDouble() * 0.6)));
            await Task.Delay(untilExpiry < pause ? untilExpiry : pause, Store.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _renewal.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>This replica's part of the permits, while Redis is unavailable.</summary>
    private static ConcurrencyLimiter LocalShareOf(FleetConcurrencyLimitOptions options) => new(new ConcurrencyLimiterOptions
    {
        PermitLimit = Math.Max(1, options.MaxConcurrency / options.ExpectedReplicas),
        QueueLimit = int.MaxValue, // the bulkhead bounds the wait (MaxQueueWait and the budget)
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    private async Task ReleaseAsync(string id)
    {
        _held.TryRemove(id, out _);
        await Store.TryEvaluateAsync(ReleaseScript, _keys, [id]).ConfigureAwait(false);
    }

    /// <summary>Gives every lease still held a new time to live, so only a replica that stops renewing loses its leases.</summary>
    private void Renew()
    {
        if (_held.IsEmpty || Interlocked.Exchange(ref _renewing, 1) == 1)
        {
            return;
        }

        var values = new List<RedisValue> { (long)_options.LeaseTtl.TotalMilliseconds };
        values.AddRange(_held.Keys.Select(k => (RedisValue)k));
        _ = Store.TryEvaluateAsync(RenewScript, _keys, [.. values]).ContinueWith(
            static (_, state) => Volatile.Write(ref ((FleetConcurrencyLimiter)state!)._renewing, 0), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>A permit of Redis: given back when its request ends, awaited by the bulkhead (<see cref="IAsyncDisposable"/>).</summary>
    private sealed class Lease(FleetConcurrencyLimiter limiter, string id) : RateLimitLease, IAsyncDisposable
    {
        private int _released;

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }

        public ValueTask DisposeAsync()
        {
            GC.SuppressFinalize(this);
            return Interlocked.Exchange(ref _released, 1) == 0 ? new ValueTask(limiter.ReleaseAsync(id)) : ValueTask.CompletedTask;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _released, 1) == 0)
            {
                _ = limiter.ReleaseAsync(id); // a synchronous dispose cannot wait; the lease expires with its time to live if this fails
            }
        }
    }
}
