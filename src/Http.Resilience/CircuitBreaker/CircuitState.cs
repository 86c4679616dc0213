namespace Http.Resilience;

/// <summary>The state of a circuit breaker. The numeric values are those of the circuit state gauge.</summary>
public enum CircuitState
{
    /// <summary>Requests flow; outcomes are counted.</summary>
    Closed = 0,

    /// <summary>Requests fail fast with <see cref="CircuitOpenException"/> until the break duration ends.</summary>
    Open = 1,

    /// <summary>The break has ended: one probe request is (or may be) in flight; every other request fails fast.</summary>
    HalfOpen = 2,
}
