namespace Http.Resilience;

/// <summary>Options of the optional fallback layer: a stale-if-error cache for GET, then a default response.</summary>
/// <remarks>
/// <para>
/// Off by default, and meant to stay off for critical clients (a payment must not silently "succeed" with a made-up answer): their
/// failures stay loud. When on, a fallback is served only when the chain failed: circuit open, bulkhead full, rate limit,
/// deadline spent, a network failure or timeout after retries, or a 5xx after retries. Never for a 4xx, never for the
/// caller's own cancellation, and the fallback path makes no network call.
/// </para>
/// <para>
/// The hierarchy: for GET, the last good (200) response of the same URL when it is at most <see cref="MaxStaleness"/> old;
/// then the delegate given to <see cref="UseResponse"/>. A fallback response carries the header
/// <c>X-Resilience-Fallback</c> (<c>stale; age=12</c> or <c>default</c>), and <c>response.GetFallbackInfo()</c> tells the
/// caller what was served and why.
/// </para>
/// </remarks>
public sealed class FallbackOptions
{
    // A field, not a property: configuration binding must never see it.
    private Func<HttpRequestMessage, FallbackArguments, HttpResponseMessage?>? _respond;

    /// <summary>Gets or sets a value indicating whether fallbacks are served.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets a value indicating whether GET responses are kept to be served stale when the chain fails.</summary>
    /// <value>The default value is <see langword="true"/> (it matters only when <see cref="Enabled"/> is on).</value>
    public bool StaleIfError { get; set; } = true;

    /// <summary>Gets or sets the oldest a stale response may be.</summary>
    /// <value>The default value is 5 minutes. Must be positive and at most 1 day.</value>
    public TimeSpan MaxStaleness { get; set; } = HttpResilienceDefaults.FallbackMaxStaleness;

    /// <summary>Gets or sets the most URLs kept per client.</summary>
    /// <value>The default value is 1000. Must be at least 1.</value>
    public int MaxEntries { get; set; } = HttpResilienceDefaults.FallbackMaxEntries;

    /// <summary>Gets or sets the most body bytes kept per client; the least recently used entries go first.</summary>
    /// <value>The default value is 16 MiB. Must be at least 1.</value>
    public long MaxBytes { get; set; } = HttpResilienceDefaults.FallbackMaxBytes;

    /// <summary>Gets or sets the largest body kept; larger responses (or ones of unknown length) are not kept.</summary>
    /// <value>The default value is 1 MiB. Must be at least 1 and at most <see cref="MaxBytes"/>.</value>
    public long MaxEntryBytes { get; set; } = HttpResilienceDefaults.FallbackMaxEntryBytes;

    /// <summary>Sets the default response served when no stale response is available. Code only.</summary>
    /// <param name="respond">Builds the response; may return <see langword="null"/> to let the failure through. Keep it local: no network calls.</param>
    /// <returns>These options, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="respond"/> is <see langword="null"/>.</exception>
    public FallbackOptions UseResponse(Func<HttpRequestMessage, FallbackArguments, HttpResponseMessage?> respond)
    {
        ArgumentNullException.ThrowIfNull(respond);
        _respond = respond;
        return this;
    }

    internal Func<HttpRequestMessage, FallbackArguments, HttpResponseMessage?>? GetResponder() => _respond;
}
