namespace Http.Resilience;

/// <summary>Thrown without calling the dependency when no rate-limit token arrived within the request's budget.</summary>
public sealed class RateLimitRejectedException : HttpResilienceException
{
    /// <summary>Initializes a new instance of the <see cref="RateLimitRejectedException"/> class.</summary>
    public RateLimitRejectedException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RateLimitRejectedException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public RateLimitRejectedException(string? message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RateLimitRejectedException"/> class with a message and an inner exception.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public RateLimitRejectedException(string? message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RateLimitRejectedException"/> class.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="retryAfter">When the limiter said a token would be available, if it did.</param>
    /// <param name="innerException">What the limiter threw, when it failed rather than refused.</param>
    internal RateLimitRejectedException(string? message, TimeSpan? retryAfter, Exception? innerException = null)
        : base(message, innerException)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>Gets when the limiter said a token would be available, if it did.</summary>
    public TimeSpan? RetryAfter { get; }
}
