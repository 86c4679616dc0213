namespace Http.Resilience;

/// <summary>What a request got from the circuit on its way in.</summary>
internal enum CircuitPermitKind
{
    /// <summary>The circuit is open (or a probe is in flight): fail fast, make no call.</summary>
    Rejected,

    /// <summary>The circuit is closed: go, and report the outcome.</summary>
    Normal,

    /// <summary>The break is over and this request is the one probe.</summary>
    Probe,
}
