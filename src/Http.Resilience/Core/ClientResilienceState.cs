namespace Http.Resilience;

/// <summary>Long-lived state of one named client.</summary>
internal sealed class ClientResilienceState
{
    private long _httpClientTimeoutTicks = Timeout.InfiniteTimeSpan.Ticks;
    private int _poolWarningLogged;
    private int _unreplayableBodyLogged;
    private int _configurationWatched;
    private HttpResilienceOptions? _lastValidOptions;
    private ConfigurationRejection? _rejection;
    private long _gateUntil = long.MinValue;
    private PushbackShare? _pushback;
    private LatencyHistogram? _hedgingLatencies;

    public ClientResilienceState(string name)
    {
        Name = name;
    }

    public string Name { get; }

    /// <summary>The client-wide retry budget, once first used (see <see cref="ReloadableState.GetOrCreate"/>).</summary>
#pragma warning disable SA1401 // fields, so that ReloadableState.GetOrCreate can swap them with one compare-and-swap
    public RetryBudget? RetryBudget;

    /// <summary>The client's adaptive throttle, once first used (see <see cref="ReloadableState.GetOrCreate"/>).</summary>
    public AdaptiveThrottle? AdaptiveThrottle;
#pragma warning restore SA1401

    /// <summary>Gets how much of this client's traffic the dependency turns away with a named wait (see <see cref="PushbackOptions.KeepWithinQuota"/>).</summary>
    /// <param name="timestampFrequency">The timestamp ticks per second of the client's <see cref="TimeProvider"/>.</param>
    public PushbackShare GetPushback(long timestampFrequency) => Volatile.Read(ref _pushback) ?? CreatePushback(timestampFrequency);

    /// <summary>Gets the client's recent attempt latencies and hedge counts (see <see cref="HedgingOptions"/>), once first used.</summary>
    public LatencyHistogram HedgingLatencies
        => Volatile.Read(ref _hedgingLatencies) ?? Interlocked.CompareExchange(ref _hedgingLatencies, new LatencyHistogram(), null) ?? _hedgingLatencies!;

    /// <summary>Gets the client's hedging statistics if hedging was ever used (for the gauges).</summary>
    public LatencyHistogram? HedgingLatenciesIfUsed => Volatile.Read(ref _hedgingLatencies);

    /// <summary>Gets or sets the client-wide circuit, once first used (it is never replaced: the registry keeps it).</summary>
    public CircuitStateController? Circuit { get; set; }

    /// <summary>Gets or sets the client-wide bulkhead, once first used (it is never replaced: the registry keeps it).</summary>
    public BulkheadState? Bulkhead { get; set; }

    /// <summary>Gets the per-authority circuits, bounded (see <see cref="CircuitBreakerOptions.MaxAuthorities"/>).</summary>
    public AuthorityMap<CircuitStateController> AuthorityCircuits { get; } = new();

    /// <summary>Gets the per-authority bulkheads, bounded (see <see cref="BulkheadOptions.MaxAuthorities"/>).</summary>
    public AuthorityMap<BulkheadState> AuthorityBulkheads { get; } = new();

    /// <summary>
    /// Gets or sets the <see cref="HttpClient.Timeout"/> the user configured for this client, or infinite when they left
    /// the default. The chain owns timeouts, so it moves that value into the deadline (see <see cref="HttpResilienceOptions.Deadline"/>).
    /// </summary>
    public TimeSpan HttpClientTimeout
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _httpClientTimeoutTicks));
        set => Volatile.Write(ref _httpClientTimeoutTicks, value.Ticks);
    }

    /// <summary>Closes the pushback gate until <paramref name="until"/> (a timestamp), unless it is already closed for longer.</summary>
    public void CloseGate(long until)
    {
        var current = Volatile.Read(ref _gateUntil);
        while (until > current)
        {
            var seen = Interlocked.CompareExchange(ref _gateUntil, until, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>Gets the timestamp until which the pushback gate is closed (in the past when it is open).</summary>
    public long GateUntil => Volatile.Read(ref _gateUntil);

    private PushbackShare CreatePushback(long timestampFrequency)
        => Interlocked.CompareExchange(ref _pushback, new PushbackShare(timestampFrequency), null) ?? _pushback!;

    /// <summary>Returns <see langword="true"/> once: the connection-pool warning is logged once per client, not per handler rotation.</summary>
    public bool TryClaimPoolWarning() => Interlocked.Exchange(ref _poolWarningLogged, 1) == 0;

    /// <summary>Returns <see langword="true"/> once: the configuration's reload token is watched once per client.</summary>
    public bool TryClaimConfigurationWatch() => Interlocked.Exchange(ref _configurationWatched, 1) == 0;

    /// <summary>Returns <see langword="true"/> once: a body that cannot be replayed is reported once per client.</summary>
    public bool TryClaimUnreplayableBodyLog() => Interlocked.Exchange(ref _unreplayableBodyLogged, 1) == 0;

    /// <summary>Gets the last options of this client that passed validation, or <see langword="null"/> before the first.</summary>
    public HttpResilienceOptions? LastValidOptions => Volatile.Read(ref _lastValidOptions);

    /// <summary>Gets the configuration rejected by the last reload while the client runs on <see cref="LastValidOptions"/>, if any.</summary>
    public ConfigurationRejection? Rejection => Volatile.Read(ref _rejection);

    /// <summary>Records options that passed validation; returns the rejection they end, if there was one.</summary>
    public ConfigurationRejection? Accept(HttpResilienceOptions options)
    {
        Volatile.Write(ref _lastValidOptions, options);
        return Interlocked.Exchange(ref _rejection, null);
    }

    /// <summary>Records a rejected configuration; returns <see langword="true"/> when its message is new (so it is logged once).</summary>
    public bool Reject(string message, long retryAt)
    {
        var previous = Interlocked.Exchange(ref _rejection, new ConfigurationRejection(message, retryAt));
        return previous?.Message != message;
    }

    /// <summary>Lets the next request try the configuration again at once (it changed).</summary>
    public void RetryConfigurationNow()
    {
        if (Volatile.Read(ref _rejection) is { } rejection)
        {
            Interlocked.CompareExchange(ref _rejection, rejection with { RetryAt = 0 }, rejection);
        }
    }
}
