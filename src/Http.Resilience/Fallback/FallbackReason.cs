namespace Http.Resilience;

/// <summary>What failed, when a fallback is served.</summary>
public enum FallbackReason
{
    /// <summary>The circuit was open.</summary>
    CircuitOpen,

    /// <summary>The bulkhead was full.</summary>
    BulkheadRejected,

    /// <summary>The outbound rate limit had no token in time.</summary>
    RateLimited,

    /// <summary>The budget was spent.</summary>
    DeadlineExceeded,

    /// <summary>The last attempt timed out.</summary>
    Timeout,

    /// <summary>The last attempt failed without a response.</summary>
    NetworkError,

    /// <summary>The last response was a 5xx.</summary>
    ServerError,

    /// <summary>Adaptive throttling rejected the request locally.</summary>
    Throttled,
}
