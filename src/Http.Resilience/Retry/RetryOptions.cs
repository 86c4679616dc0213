namespace Http.Resilience;

/// <summary>Options of the retry layer.</summary>
/// <remarks>
/// <para>
/// Retried: 408, 429, 500, 502, 503, 504, network failures (<see cref="HttpRequestException"/>, <see cref="IOException"/>)
/// and timed-out attempts. Never retried: other 4xx, 501, 505, the caller's cancellation, and any request whose method
/// is not idempotent (POST, PATCH, ...) unless it carries an idempotency key.
/// </para>
/// <para>
/// The delay before retry <c>n</c> (0-based) is full jitter: a uniform random value in
/// <c>[0, min(MaxDelay, BaseDelay * 2^n))</c>. On 429 and 503 a valid <c>Retry-After</c> replaces it; one greater than
/// <see cref="MaxRetryAfter"/> or than the budget left ends the retries and returns the response as it came.
/// Any delay that does not fit in the budget left ends the retries and returns the last outcome.
/// </para>
/// </remarks>
public sealed class RetryOptions
{
    /// <summary>Gets or sets a value indicating whether failed attempts are retried.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the maximum number of retries after the first attempt.</summary>
    /// <value>The default value is 2 (three attempts at most). Must be between 0 and 100.</value>
    public int MaxRetries { get; set; } = HttpResilienceDefaults.MaxRetries;

    /// <summary>Gets or sets the base of the exponential backoff.</summary>
    /// <value>The default value is 200 milliseconds. Must be between zero and 1 day.</value>
    public TimeSpan BaseDelay { get; set; } = HttpResilienceDefaults.BaseDelay;

    /// <summary>Gets or sets the cap of the exponential backoff.</summary>
    /// <value>The default value is 5 seconds. Must be between <see cref="BaseDelay"/> and 1 day.</value>
    public TimeSpan MaxDelay { get; set; } = HttpResilienceDefaults.MaxDelay;

    /// <summary>Gets or sets the longest <c>Retry-After</c> the chain will wait for.</summary>
    /// <value>The default value is 30 seconds. Must be between zero and 1 day.</value>
    /// <remarks>A longer <c>Retry-After</c> ends the retries at once and the response is returned as it came.</remarks>
    public TimeSpan MaxRetryAfter { get; set; } = HttpResilienceDefaults.MaxRetryAfter;

    /// <summary>Gets or sets the largest request body, in bytes, that is buffered so that it can be sent again.</summary>
    /// <value>The default value is 1 MiB (1,048,576). Must be zero or more; zero never buffers.</value>
    /// <remarks>
    /// Byte-array, string, form, memory and JSON content are replayed as they are. Other content (a stream) is buffered
    /// when its length is known and at most this size; otherwise the request is sent once and not retried.
    /// </remarks>
    public long MaxRequestBufferBytes { get; set; } = HttpResilienceDefaults.MaxRequestBufferBytes;

    /// <summary>Gets or sets the retry budget: at most <see cref="RetryBudgetOptions.Ratio"/> retries per request over a window.</summary>
    /// <value>On by default: 0.2 retries per request over 10 seconds, plus 10 retries a second whatever the traffic.</value>
    public RetryBudgetOptions Budget { get; set; } = new();
}
