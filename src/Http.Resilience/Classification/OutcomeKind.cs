namespace Http.Resilience;

/// <summary>What one attempt's outcome means to the retry and circuit breaker layers (DESIGN.md section 3).</summary>
internal enum OutcomeKind
{
    /// <summary>1xx-3xx.</summary>
    Success,

    /// <summary>429; 503 with Retry-After. Retried after Retry-After when it fits the budget.</summary>
    Throttled,

    /// <summary>408, 500, 502, 503, 504, network failures and timed-out attempts. Retried.</summary>
    Transient,

    /// <summary>Every other 4xx, 501, 505 and other 5xx. Not retried.</summary>
    Permanent,
}
