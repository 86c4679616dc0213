namespace Http.Resilience;

/// <summary>Options of the idempotency key layer.</summary>
/// <remarks>
/// POST and PATCH requests without the header get a fresh key per logical request, added outside the retry loop so
/// that every attempt carries the same key. A key set by the caller is kept. A POST or PATCH that carries the header is
/// retryable whether or not <see cref="Enabled"/> is set; one without it is sent at most once.
/// See the IETF draft "The Idempotency-Key HTTP Header Field".
/// </remarks>
public sealed class IdempotencyOptions
{
    /// <summary>Gets or sets a value indicating whether keys are added to POST and PATCH requests that have none.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the name of the idempotency key header.</summary>
    /// <value>The default value is <c>Idempotency-Key</c>. Must be a valid HTTP header name.</value>
    public string HeaderName { get; set; } = HttpResilienceDefaults.IdempotencyHeaderName;
}
