namespace Http.Resilience;

/// <summary>How a request's wait for room in a <see cref="RecoveryRamp"/> ended.</summary>
internal enum RampEntry
{
    /// <summary>It got room: it must give it back with <see cref="RecoveryRamp.Exit"/>.</summary>
    Admitted,

    /// <summary>The ramp was over: no limit, nothing to give back.</summary>
    Over,

    /// <summary>Its budget ran out before room freed.</summary>
    TimedOut,

    /// <summary>The ramp already holds as many requests as the bulkhead would, in flight and waiting.</summary>
    Full,
}
