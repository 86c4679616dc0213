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

    /// <summary>Gets or sets a value indicating whether the client keeps within the quota a dependency pushes back with.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    /// <remarks>
    /// <para>
    /// A request that waits out a server-named wait is not using the dependency, yet it holds its place in the client
    /// (a bulkhead permit) the whole time, and sending more than the dependency admits only buys more refusals. So while
    /// the dependency keeps turning this client's requests away with a named wait (a 429 with <c>Retry-After</c> or the
    /// rate-limit headers; at least 10 of them in the last 10 seconds, and more than a third of what the client was asked
    /// to send):
    /// </para>
    /// <list type="bullet">
    /// <item><description>
    /// the client sends about 1.5 requests per request the dependency accepts, and rejects the rest locally, without
    /// sending them, with <see cref="RateLimitRejectedException"/> (its <see cref="RateLimitRejectedException.RetryAfter"/>
    /// is the last wait the server named) or serves the fallback, when one is on;
    /// </description></item>
    /// <item><description>
    /// requests do not wait out a 429's named wait in the retry loop: the response is returned as it came, with its
    /// <c>Retry-After</c>, and the permit goes to a new request.
    /// </description></item>
    /// </list>
    /// <para>
    /// A few named waits (a burst) change nothing: the retry loop waits them out as usual. A 503 is not quota pushback but
    /// an outage, the circuit's business: its named wait sets the circuit's break (see
    /// <see cref="CircuitBreakerOptions.BreakDuration"/>). Against a rate limiter admitting 100 requests a second, a client
    /// asked for 400 a second gets the whole quota this way, at under 2 requests per accepted one; waiting every 429 out
    /// instead holds a bulkhead permit per sleeping request (which can leave part of the quota unused) and sends the server
    /// over 4 requests per accepted one. Unlike <see cref="Gate"/>, which stops the whole client until the named instant (right
    /// for a quota that resets at that instant), this keeps sending at the rate the dependency admits (right for a rate
    /// limiter that names a wait for each request it turns away while it admits others).
    /// </para>
    /// </remarks>
    public bool KeepWithinQuota { get; set; } = true;
}
