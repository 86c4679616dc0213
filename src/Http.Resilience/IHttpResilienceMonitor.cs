namespace Http.Resilience;

/// <summary>
/// A read-only view of the chain's long-lived state, for health checks and dashboards. Resolve it from the container.
/// </summary>
/// <remarks>
/// Circuits and bulkheads appear once their client has been created (or, per authority, once a request reached that
/// authority). Reading never changes state: an open circuit whose break is over reads as half-open until a request probes it.
/// </remarks>
public interface IHttpResilienceMonitor
{
    /// <summary>Raised after a circuit changes state, outside any lock. Handlers must be quick and must not throw.</summary>
    event EventHandler<OnCircuitStateChangedArguments>? CircuitStateChanged;

    /// <summary>Gets the state of every circuit.</summary>
    /// <returns>One snapshot per circuit.</returns>
    IReadOnlyList<CircuitBreakerSnapshot> GetCircuitBreakers();

    /// <summary>Gets the occupancy of every bulkhead.</summary>
    /// <returns>One snapshot per bulkhead.</returns>
    IReadOnlyList<BulkheadSnapshot> GetBulkheads();
}

/// <summary>The state of one circuit at one moment.</summary>
/// <param name="ClientName">The name of the client.</param>
/// <param name="Authority">The authority (scheme, host, port) of a per-authority circuit, else <see langword="null"/>.</param>
/// <param name="State">The circuit's state.</param>
/// <param name="RetryAfter">The time until a probe is allowed, when open; else <see langword="null"/>.</param>
/// <param name="RequestCount">The requests counted in the sampling window.</param>
/// <param name="FailureCount">The failures counted in the sampling window.</param>
public readonly record struct CircuitBreakerSnapshot(string ClientName, string? Authority, CircuitState State, TimeSpan? RetryAfter, int RequestCount, int FailureCount);

/// <summary>The occupancy of one bulkhead at one moment.</summary>
/// <param name="ClientName">The name of the client.</param>
/// <param name="Authority">The authority (scheme, host, port) of a per-authority bulkhead, else <see langword="null"/>.</param>
/// <param name="MaxConcurrency">The configured limit.</param>
/// <param name="Active">The requests holding a permit now.</param>
/// <param name="Queued">The requests waiting for a permit now.</param>
/// <param name="Rejected">The requests rejected since the bulkhead was created.</param>
public readonly record struct BulkheadSnapshot(string ClientName, string? Authority, int MaxConcurrency, int Active, int Queued, long Rejected);
