using StackExchange.Redis;

namespace Http.Resilience.Redis;

/// <summary>
/// One fleet limit's way to Redis: every call bounded by the store timeout, and a memory of whether Redis answered, so
/// that while it does not, only one request in each re-probe interval asks it again and the others go straight to the
/// outage policy.
/// </summary>
internal sealed class FleetStore : IDisposable
{
    private readonly Task<IConnectionMultiplexer> _connection;
    private readonly bool _ownsConnection;
    private readonly FleetLimitOptions _options;
    private readonly FleetTelemetry _telemetry;
    private long _askAgainAt = long.MinValue; // a timestamp: long.MinValue while Redis answers

    /// <param name="connect">Makes or finds the connection; started at once, and never waited for longer than the store timeout.</param>
    /// <param name="options">The limit's options.</param>
    /// <param name="timeProvider">The clock of the store timeout and the re-probe interval.</param>
    /// <param name="telemetry">Where the limit reports the state of its store.</param>
    public FleetStore(Func<Task<IConnectionMultiplexer>> connect, FleetLimitOptions options, TimeProvider timeProvider, FleetTelemetry telemetry)
    {
        _connection = connect();
        _ownsConnection = options.ConnectionString is not null;
        _options = options;
        TimeProvider = timeProvider;
        _telemetry = telemetry;
        Key = new RedisKey(options.Key);
    }

    public TimeProvider TimeProvider { get; }

    public RedisKey Key { get; }

    /// <summary>Gets a value indicating whether the last call to Redis failed (the replica is under its outage policy).</summary>
    public bool IsUnavailable => Volatile.Read(ref _askAgainAt) != long.MinValue;

    /// <summary>
    /// Runs <paramref name="script"/>, or returns <see langword="null"/> when Redis is unavailable: it failed or did not
    /// answer within the store timeout now, or it did recently and this is not the request that asks it again.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public async ValueTask<RedisResult?> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] values, CancellationToken cancellationToken)
    {
        if (!MayAsk())
        {
            return null;
        }

        try
        {
            // The first requests may find the connection still being made (start-up). They wait for it, up to a re-probe
            // interval: answering from the policy meanwhile would mix local shares with the shared limit and let more
            // through than the limit; a Redis that cannot be reached by then is an outage like any other.
            var connection = _connection.IsCompleted
                ? await _connection.ConfigureAwait(false)
                : await _connection.WaitAsync(_options.ReprobeInterval, TimeProvider, cancellationToken).ConfigureAwait(false);
            if (!connection.IsConnected)
            {
                throw new InvalidOperationException("The connection to Redis is down.");
            }

            var result = await connection.GetDatabase().ScriptEvaluateAsync(script, keys, values)
                .WaitAsync(_options.StoreTimeout, TimeProvider, cancellationToken).ConfigureAwait(false);
            if (Interlocked.Exchange(ref _askAgainAt, long.MinValue) != long.MinValue)
            {
                _telemetry.StoreAvailable();
            }

            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var wasAvailable = Interlocked.Exchange(ref _askAgainAt, TimeProvider.GetTimestamp() + Ticks(_options.ReprobeInterval)) == long.MinValue;
            _telemetry.StoreFailed(ex, wasAvailable);
            return null;
        }
    }

    /// <summary>Runs <paramref name="script"/> without waiting for its answer's use beyond the store timeout; failures are ignored.</summary>
    public async Task TryEvaluateAsync(string script, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            var connection = await _connection.WaitAsync(_options.StoreTimeout, TimeProvider).ConfigureAwait(false);
            if (connection.IsConnected)
            {
                await connection.GetDatabase().ScriptEvaluateAsync(script, keys, values).WaitAsync(_options.StoreTimeout, TimeProvider).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            _telemetry.HousekeepingFailed(ex); // a lease left behind expires with its time to live
        }
    }

    /// <summary>While Redis is unavailable, lets one request in each re-probe interval through to ask it again.</summary>
    private bool MayAsk()
    {
        var askAgainAt = Volatile.Read(ref _askAgainAt);
        if (askAgainAt == long.MinValue)
        {
            return true;
        }

        var now = TimeProvider.GetTimestamp();
        return now >= askAgainAt && Interlocked.CompareExchange(ref _askAgainAt, now + Ticks(_options.ReprobeInterval), askAgainAt) == askAgainAt;
    }

    /// <summary>Closes the connection if the limit made it itself (from its connection string); one of the application's stays open.</summary>
    public void Dispose()
    {
        if (_ownsConnection && _connection.IsCompletedSuccessfully)
        {
            _connection.Result.Dispose();
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * TimeProvider.TimestampFrequency);
}
