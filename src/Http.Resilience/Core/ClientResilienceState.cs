namespace Http.Resilience;

/// <summary>Long-lived state of one named client.</summary>
internal sealed class ClientResilienceState
{
    private long _httpClientTimeoutTicks = Timeout.InfiniteTimeSpan.Ticks;
    private int _poolWarningLogged;
    private int _unreplayableBodyLogged;

    public ClientResilienceState(string name)
    {
        Name = name;
    }

    public string Name { get; }

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

    /// <summary>Returns <see langword="true"/> once: the connection-pool warning is logged once per client, not per handler rotation.</summary>
    public bool TryClaimPoolWarning() => Interlocked.Exchange(ref _poolWarningLogged, 1) == 0;

    /// <summary>Returns <see langword="true"/> once: a body that cannot be replayed is reported once per client.</summary>
    public bool TryClaimUnreplayableBodyLog() => Interlocked.Exchange(ref _unreplayableBodyLogged, 1) == 0;
}
