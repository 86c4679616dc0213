namespace Http.Resilience.Redis;

/// <summary>What a replica does while Redis, the store of a fleet limit, cannot be reached in time.</summary>
public enum WhenStoreUnavailable
{
    /// <summary>
    /// Each replica keeps to its share of the limit on its own (the limit divided by the expected replicas), and asks
    /// Redis again about once a second. The default: the dependency stays protected and the callers keep being served.
    /// </summary>
    LocalShare = 0,

    /// <summary>Requests go out unlimited until Redis answers again.</summary>
    FailOpen = 1,

    /// <summary>Requests are rejected until Redis answers again.</summary>
    FailClosed = 2,
}
