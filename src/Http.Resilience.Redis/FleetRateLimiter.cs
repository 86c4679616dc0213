using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace Http.Resilience.Redis;

/// <summary>A token bucket shared by every replica under one Redis key (see <see cref="FleetRateLimitOptions"/>).</summary>
internal sealed class FleetRateLimiter : FleetLimiter
{
    // KEYS[1]: the bucket. ARGV: tokens per second, burst, tokens wanted. Returns {1, 0} when taken, else {0, ms to wait}.
    // The clock is the Redis server's (TIME), so replicas' clocks never matter; the key expires once a full bucket
    // would have refilled, so an idle limit leaves nothing behind.
    private const string Script = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local rate = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local want = tonumber(ARGV[3])
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens = tonumber(state[1])
        local at = tonumber(state[2])
        if tokens == nil or at == nil then
          tokens = burst
          at = now
        end
        tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000000)
        local taken = 0
        local wait = 0
        if tokens >= want then
          tokens = tokens - want
          taken = 1
        else
          wait = math.ceil((want - tokens) * 1000 / rate)
        end
        redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%.0f', now))
        redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
        return {taken, wait}
        """;

    private readonly FleetRateLimitOptions _options;
    private readonly RedisKey[] _keys;
    private readonly RedisValue[] _values;

    public FleetRateLimiter(FleetStore store, FleetRateLimitOptions options)
        : base(store, options, LocalShareOf(options), "rate limit")
    {
        _options = options;
        _keys = [store.Key];
        _values = [options.PermitsPerSecond, options.Burst, 1];
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await Store.EvaluateAsync(Script, _keys, permitCount == 1 ? _values : [_options.PermitsPerSecond, _options.Burst, permitCount], cancellationToken).ConfigureAwait(false);
            if (result is null)
            {
                return await WithoutStoreAsync(permitCount, cancellationToken).ConfigureAwait(false);
            }

            var answer = (RedisResult[])result!;
            if ((long)answer[0] == 1)
            {
                return FleetLeases.Granted;
            }

            // No token: wait as long as the bucket says one takes to come (a little jitter, so the fleet's waiters do not
            // ask again all at once), then ask again. The chain ends the wait with the request's budget.
            var wait = TimeSpan.FromMilliseconds((long)answer[1] * (1 + (Random.Shared.NextDouble() * 0.2)));
            await Task.Delay(wait, Store.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// This replica's part of the rate and of the burst. Tokens come one at a time, evenly (a whole second's worth at once
    /// would be capped by the small bucket), or a few at a time above a thousand a second.
    /// </summary>
    private static TokenBucketRateLimiter LocalShareOf(FleetRateLimitOptions options)
    {
        var share = Math.Max(1, options.PermitsPerSecond / options.ExpectedReplicas);
        var perPeriod = Math.Max(1, share / 1000);
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokensPerPeriod = perPeriod,
            TokenLimit = Math.Max(perPeriod, options.Burst / options.ExpectedReplicas),
            ReplenishmentPeriod = TimeSpan.FromTicks(TimeSpan.TicksPerSecond * perPeriod / share),
            QueueLimit = int.MaxValue, // the chain bounds the waiters (RateLimit.MaxQueue) and their wait (the budget)
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }
}
