using System.Globalization;

namespace Http.Resilience;

/// <summary>
/// Settings for one request, in place of its client's: a shorter or longer deadline, an attempt timeout, fewer retries,
/// a POST that may be retried without a key, no fallback, no hedging, no response buffering.
/// </summary>
/// <remarks>
/// <para>
/// The settings travel in the request's <see cref="HttpRequestMessage.Options"/> and are read once, when the request
/// enters the chain. Each method checks its value at once and throws <see cref="ArgumentException"/> for one that no
/// client could accept, so a mistake shows where it was made, before anything is sent.
/// </para>
/// <para>
/// What protects the dependency stays the client's: a request cannot raise the retry count, turn on a layer that is off,
/// or get past the rate limit, the bulkhead or the circuit breaker. A deadline longer than the client's is allowed up to
/// the client's <see cref="HttpResilienceOptions.MaxRequestDeadline"/>.
/// </para>
/// </remarks>
public static class HttpRequestMessageResilienceExtensions
{
    /// <summary>Sets the budget of this request (every attempt, backoff and queue wait), in place of the client's <see cref="HttpResilienceOptions.Deadline"/>.</summary>
    /// <param name="request">The request.</param>
    /// <param name="deadline">The budget: positive and at most 1 day, or <see cref="Timeout.InfiniteTimeSpan"/>.</param>
    /// <remarks>
    /// A shorter deadline always applies. A longer one applies up to the client's
    /// <see cref="HttpResilienceOptions.MaxRequestDeadline"/>; a request that asks for more fails with
    /// <see cref="ArgumentException"/> when it is sent, and nothing is sent. As with the client's option, a user-set
    /// <see cref="HttpClient.Timeout"/> and an <see cref="InheritedDeadline"/> still shorten it. The client's attempt timeout
    /// still bounds each attempt: a request that needs one long attempt sets <see cref="SetResilienceAttemptTimeout"/> too.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="deadline"/> is not positive, is longer than 1 day, or is shorter than the attempt timeout this
    /// request already set.
    /// </exception>
    public static void SetResilienceDeadline(this HttpRequestMessage request, TimeSpan deadline)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckDuration(deadline, nameof(deadline), "deadline");
        var overrides = RequestOverrides.GetOrAdd(request);
        if (overrides.AttemptTimeout is { } timeout && TimeMath.IsLonger(timeout, deadline))
        {
            throw new ArgumentOutOfRangeException(nameof(deadline), deadline, Invariant($"The request's deadline must not be shorter than the attempt timeout it set ('{timeout}')."));
        }

        overrides.Deadline = deadline;
    }

    /// <summary>Sets the timeout of each attempt of this request, in place of the client's <see cref="HttpResilienceOptions.AttemptTimeout"/>.</summary>
    /// <param name="request">The request.</param>
    /// <param name="timeout">The timeout: positive and at most 1 day, or <see cref="Timeout.InfiniteTimeSpan"/> (then only the budget bounds an attempt).</param>
    /// <remarks>
    /// As with the client's option, each attempt is bounded by the smaller of this timeout and the budget left. When the
    /// client propagates deadlines, a timeout not at least a millisecond longer than its
    /// <see cref="DeadlinePropagationOptions.SafetyMargin"/> would leave the dependency no time at all: such a request
    /// fails with <see cref="ArgumentException"/> when it is sent, and nothing is sent.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="timeout"/> is not positive, is longer than 1 day, or is longer than the deadline this request
    /// already set.
    /// </exception>
    public static void SetResilienceAttemptTimeout(this HttpRequestMessage request, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckDuration(timeout, nameof(timeout), "attempt timeout");
        var overrides = RequestOverrides.GetOrAdd(request);
        if (overrides.Deadline is { } deadline && TimeMath.IsLonger(timeout, deadline))
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, Invariant($"The request's attempt timeout must not be longer than the deadline it set ('{deadline}')."));
        }

        overrides.AttemptTimeout = timeout;
    }

    /// <summary>Sets the most retries this request may make; 0 sends it once (no retry, and no hedged copy).</summary>
    /// <param name="request">The request.</param>
    /// <param name="maxRetries">The most retries, from 0. The client's <see cref="RetryOptions.MaxRetries"/> caps it: a request can lower the count, never raise it.</param>
    /// <remarks>
    /// Retries multiply the load on a dependency that is failing, and the client's count is what its retry budget and its
    /// dependency were sized for; so a higher count than the client's is not an error, and the client's applies. With a
    /// count of 0 the request is also never hedged: it is sent once.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRetries"/> is negative or above 100.</exception>
    public static void SetResilienceMaxRetries(this HttpRequestMessage request, int maxRetries)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (maxRetries is < 0 or > HttpResilienceDefaults.MaxRetriesLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(maxRetries), maxRetries, Invariant($"The request's retry count must be between 0 and {HttpResilienceDefaults.MaxRetriesLimit}."));
        }

        RequestOverrides.GetOrAdd(request).MaxRetries = maxRetries;
    }

    /// <summary>Says that this request may be sent more than once as it is: a POST or PATCH the caller knows to be idempotent, with no idempotency key.</summary>
    /// <param name="request">The request.</param>
    /// <remarks>
    /// Without it, a POST or PATCH is retried or hedged only when it carries an idempotency key, and sent at most once
    /// otherwise. With it, the request is retried like a GET (its body still has to be replayable). The idempotency key
    /// layer is unchanged: when it is on, the request still gets a key. Requests whose method is idempotent already
    /// (GET, PUT, DELETE, ...) are not affected.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is <see langword="null"/>.</exception>
    public static void SetResilienceIdempotent(this HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestOverrides.GetOrAdd(request).Idempotent = true;
    }

    /// <summary>Makes this request skip the client's fallback: the caller sees the real failure or error response.</summary>
    /// <param name="request">The request.</param>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is <see langword="null"/>.</exception>
    public static void DisableResilienceFallback(this HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestOverrides.GetOrAdd(request).FallbackOff = true;
    }

    /// <summary>Makes this request skip the client's hedging: no copy is sent while an attempt is slow (retries still apply).</summary>
    /// <param name="request">The request.</param>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is <see langword="null"/>.</exception>
    public static void DisableResilienceHedging(this HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestOverrides.GetOrAdd(request).HedgingOff = true;
    }

    /// <summary>Makes this request skip the client's response buffering: its body is left for the caller to stream.</summary>
    /// <param name="request">The request.</param>
    /// <remarks>
    /// For a download the caller reads as it arrives (sent with <see cref="HttpCompletionOption.ResponseHeadersRead"/>;
    /// otherwise the <see cref="HttpClient"/> reads the whole body itself). Its attempt counts as answered once the headers
    /// are in. A stale-if-error fallback still keeps a copy of a small GET body of known length, as it does for every
    /// client; <see cref="DisableResilienceFallback"/> skips that too.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is <see langword="null"/>.</exception>
    public static void DisableResilienceResponseBuffering(this HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestOverrides.GetOrAdd(request).ResponseBufferingOff = true;
    }

    private static void CheckDuration(TimeSpan value, string paramName, string what)
    {
        if (!TimeMath.IsBudget(value))
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"The request's {what} must be positive and at most 1 day, or Timeout.InfiniteTimeSpan.");
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
