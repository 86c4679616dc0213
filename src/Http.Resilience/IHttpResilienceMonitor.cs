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
