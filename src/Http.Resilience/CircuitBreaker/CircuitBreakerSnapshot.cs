namespace Http.Resilience;

/// <summary>The state of one circuit at one moment.</summary>
/// <param name="ClientName">The name of the client.</param>
/// <param name="Authority">The authority (scheme, host, port) of a per-authority circuit, else <see langword="null"/>.</param>
/// <param name="State">The circuit's state.</param>
/// <param name="RetryAfter">The time until a probe is allowed, when open; else <see langword="null"/>.</param>
/// <param name="RequestCount">The requests counted in the sampling window.</param>
/// <param name="FailureCount">The failures counted in the sampling window.</param>
public readonly record struct CircuitBreakerSnapshot(string ClientName, string? Authority, CircuitState State, TimeSpan? RetryAfter, int RequestCount, int FailureCount)
{
    /// <summary>Gets the length of the current break while the circuit is open or half-open, else <see langword="null"/>.</summary>
    /// <remarks>It adapts: see <see cref="CircuitBreakerOptions.BreakDuration"/>. <see cref="RetryAfter"/> is the part of it still to run.</remarks>
    public TimeSpan? BreakDuration { get; init; }

    /// <summary>Gets why the current break is as long as it is (the first, doubled after failed probes, or a wait the server named), else <see langword="null"/>.</summary>
    public string? BreakReason { get; init; }

    /// <summary>Gets the requests in flight the circuit allows while it ramps back up after a close, else <see langword="null"/>.</summary>
    /// <remarks>See <see cref="CircuitBreakerOptions.RampUp"/>.</remarks>
    public int? RampLimit { get; init; }
}
