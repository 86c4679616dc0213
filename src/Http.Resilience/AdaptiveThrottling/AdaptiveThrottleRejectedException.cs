namespace Http.Resilience;

/// <summary>Thrown without calling the dependency when client-side adaptive throttling rejected the request.</summary>
/// <remarks>The dependency has been refusing requests (429, 503, timeouts): see <see cref="AdaptiveThrottlingOptions"/>.</remarks>
public sealed class AdaptiveThrottleRejectedException : HttpResilienceException
{
    /// <summary>Initializes a new instance of the <see cref="AdaptiveThrottleRejectedException"/> class.</summary>
    public AdaptiveThrottleRejectedException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AdaptiveThrottleRejectedException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public AdaptiveThrottleRejectedException(string? message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AdaptiveThrottleRejectedException"/> class with a message and an inner exception.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public AdaptiveThrottleRejectedException(string? message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
