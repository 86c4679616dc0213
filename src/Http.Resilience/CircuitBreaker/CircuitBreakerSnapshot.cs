namespace Http.Resilience;

/// <summary>The state of one circuit at one moment.</summary>
/// <param name="ClientName">The name of the client.</param>
/// <param name="Authority">The authority (scheme, host, port) of a per-authority circuit, else <see langword="null"/>.</param>
/// <param name="State">The circuit's state.</param>
/// <param name="RetryAfter">The time until a probe is allowed, when open; else <see langword="null"/>.</param>
/// <param name="RequestCount">The requests counted in the sampling window.</param>
/// <param name="FailureCount">The failures counted in the sampling window.</param>
public readonly record struct CircuitBreakerSnapshot(string ClientName, string? Authority, CircuitState State, TimeSpan? RetryAfter, int RequestCount, int FailureCount);
