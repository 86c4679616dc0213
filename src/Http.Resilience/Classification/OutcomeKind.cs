namespace Http.Resilience;

/// <summary>What an outcome means to the retry loop: the first column of the outcome table (see <see cref="OutcomeClassifier"/>).</summary>
internal enum OutcomeKind
{
    /// <summary>1xx-3xx.</summary>
    Success,

    /// <summary>429; 503 with Retry-After. Retried after Retry-After when it fits the budget.</summary>
    Throttled,

    /// <summary>408, 500, 502, 503, 504, network failures, timed-out attempts and handlers below giving up. Retried.</summary>
    Transient,

    /// <summary>Every other 4xx, 501, 505 and other 5xx, and every failure retrying cannot fix. Not retried.</summary>
    Permanent,
}
