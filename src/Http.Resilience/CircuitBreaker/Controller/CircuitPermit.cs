namespace Http.Resilience;

/// <summary>A request's ticket through the circuit; hand it back to <see cref="CircuitStateController.Complete"/> exactly once.</summary>
internal readonly record struct CircuitPermit(CircuitPermitKind Kind, long Generation, TimeSpan? RetryAfter);
