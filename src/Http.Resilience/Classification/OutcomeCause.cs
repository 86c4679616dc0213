namespace Http.Resilience;

/// <summary>What an outcome was, in more detail than <see cref="OutcomeKind"/>: the row of the outcome table it comes from.</summary>
internal enum OutcomeCause
{
    /// <summary>The dependency answered; the status code says the rest.</summary>
    Response,

    /// <summary>The caller's own token fired.</summary>
    CallerCancelled,

    /// <summary>A cancellation nobody of ours asked for: a handler below gave up on its own (a connect timeout, say).</summary>
    InnerCancelled,

    /// <summary>The attempt timeout fired.</summary>
    AttemptTimeout,

    /// <summary>The request's budget ran out.</summary>
    Deadline,

    /// <summary>The circuit rejected the request.</summary>
    CircuitOpen,

    /// <summary>The bulkhead rejected the request.</summary>
    BulkheadRejected,

    /// <summary>The outbound rate limit rejected the request.</summary>
    RateLimited,

    /// <summary>Adaptive throttling rejected the request locally.</summary>
    Throttled,

    /// <summary>The connection failed, was reset or broke mid-way (<see cref="HttpRequestException"/>, <see cref="IOException"/>).</summary>
    NetworkError,

    /// <summary>Another failure of the chain's own, or a <see cref="TimeoutException"/> from a handler below.</summary>
    OtherTimeout,

    /// <summary>Anything else: a bug or a misuse, which says nothing about the dependency.</summary>
    Other,
}
