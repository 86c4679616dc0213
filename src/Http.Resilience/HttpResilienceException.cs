namespace Http.Resilience;

/// <summary>
/// The base of every exception the resilience chain itself throws. It derives from <see cref="HttpRequestException"/>,
/// so existing <c>catch (HttpRequestException)</c> blocks keep working.
/// </summary>
/// <remarks>
/// Thrown as is when the last attempt timed out while budget remained (with a <see cref="TimeoutException"/> inside).
/// The caller's own cancellation is never wrapped: it surfaces as <see cref="OperationCanceledException"/>.
/// </remarks>
public class HttpResilienceException : HttpRequestException
{
    /// <summary>Initializes a new instance of the <see cref="HttpResilienceException"/> class.</summary>
    public HttpResilienceException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HttpResilienceException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public HttpResilienceException(string? message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HttpResilienceException"/> class with a message and an inner exception.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public HttpResilienceException(string? message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
