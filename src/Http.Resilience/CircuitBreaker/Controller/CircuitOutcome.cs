namespace Http.Resilience;

/// <summary>How a logical request ended, as the circuit counts it.</summary>
internal enum CircuitOutcome
{
    Success,
    Failure,

    /// <summary>Not counted (the caller cancelled, or an error the circuit does not judge). A probe that ends so re-opens the circuit.</summary>
    Ignored,
}
