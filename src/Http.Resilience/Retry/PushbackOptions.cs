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
}
