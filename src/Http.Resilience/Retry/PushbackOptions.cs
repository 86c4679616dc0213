namespace Http.Resilience;

/// <summary>Options of server pushback: what a dependency may say about retrying its answer.</summary>
/// <remarks>
/// A response whose header named in <see cref="ShouldRetryHeaders"/> says <c>false</c> is never retried, whatever its
/// status: the server (or a service further down that already retried) says another attempt cannot help. One that says
/// <c>true</c> makes a 409 retryable (a request with the same idempotency key still in progress). Headers that say
/// anything else are ignored.
/// </remarks>
public sealed class PushbackOptions
{
    /// <summary>Gets or sets the response headers that say whether a request may be retried (<c>true</c> or <c>false</c>).</summary>
    /// <value>
    /// The default value is <c>X-Should-Retry</c> (what <c>Http.Resilience.AspNetCore</c> sends) and <c>Stripe-Should-Retry</c>.
    /// </value>
    public string[] ShouldRetryHeaders { get; set; } = [HttpResilienceDefaults.ShouldRetryHeaderName, "Stripe-Should-Retry"];

    /// <summary>Gets or sets a value indicating whether a server-named wait holds back the whole client.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    /// <remarks>
    /// When on, a 429 or 503 that names a wait (<c>Retry-After</c> or the rate-limit headers) closes a gate for the whole
    /// client until that instant, at most <see cref="RetryOptions.MaxRetryAfter"/> away: meanwhile new requests fail at once
    /// with <see cref="RateLimitRejectedException"/> (its <see cref="RateLimitRejectedException.RetryAfter"/> says when the
    /// gate opens) or get the fallback, instead of each sending one more request to learn the same thing. Requests that
    /// were already waiting out the server's wait in their retry loop add a random delay of up to a fifth of it (at most a
    /// second), so they do not all fire the moment the gate opens.
    /// </remarks>
    public bool Gate { get; set; }
}
