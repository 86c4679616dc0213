namespace Http.Resilience;

/// <summary>Describes one state change of a circuit breaker.</summary>
public readonly struct OnCircuitStateChangedArguments
{
    /// <summary>Initializes a new instance of the <see cref="OnCircuitStateChangedArguments"/> struct.</summary>
    /// <param name="clientName">The name of the client the circuit belongs to.</param>
    /// <param name="authority">The authority (scheme, host, port) for a per-authority circuit, else <see langword="null"/>.</param>
    /// <param name="previousState">The state before the change.</param>
    /// <param name="state">The state after the change.</param>
    /// <param name="reason">Why the state changed, in words.</param>
    /// <param name="requestCount">The requests counted in the sampling window when the change happened.</param>
    /// <param name="failureCount">The failures counted in the sampling window when the change happened.</param>
    /// <param name="breakDuration">How long the circuit stays open, when it opened; else <see langword="null"/>.</param>
    internal OnCircuitStateChangedArguments(string clientName, string? authority, CircuitState previousState, CircuitState state, string reason, int requestCount, int failureCount, TimeSpan? breakDuration)
    {
        ClientName = clientName;
        Authority = authority;
        PreviousState = previousState;
        State = state;
        Reason = reason;
        RequestCount = requestCount;
        FailureCount = failureCount;
        BreakDuration = breakDuration;
    }

    /// <summary>Gets the name of the client the circuit belongs to.</summary>
    public string ClientName { get; }

    /// <summary>Gets the authority (scheme, host, port) for a per-authority circuit, else <see langword="null"/>.</summary>
    public string? Authority { get; }

    /// <summary>Gets the state before the change.</summary>
    public CircuitState PreviousState { get; }

    /// <summary>Gets the state after the change.</summary>
    public CircuitState State { get; }

    /// <summary>Gets why the state changed, in words (for logs).</summary>
    public string Reason { get; }

    /// <summary>Gets the requests counted in the sampling window when the change happened.</summary>
    public int RequestCount { get; }

    /// <summary>Gets the failures counted in the sampling window when the change happened.</summary>
    public int FailureCount { get; }

    /// <summary>Gets the share of failures in the sampling window when the change happened.</summary>
    public double FailureRatio => RequestCount == 0 ? 0 : (double)FailureCount / RequestCount;

    /// <summary>Gets how long the circuit stays open, when it opened; else <see langword="null"/>.</summary>
    public TimeSpan? BreakDuration { get; }
}
