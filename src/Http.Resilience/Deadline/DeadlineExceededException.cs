namespace Http.Resilience;

/// <summary>
/// Thrown when a logical request's budget (<see cref="HttpResilienceOptions.Deadline"/>, or the request's own deadline) is
/// spent before a usable response.
/// </summary>
public sealed class DeadlineExceededException : HttpResilienceException
{
    /// <summary>Initializes a new instance of the <see cref="DeadlineExceededException"/> class.</summary>
    public DeadlineExceededException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="DeadlineExceededException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public DeadlineExceededException(string? message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="DeadlineExceededException"/> class with a message and an inner exception.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public DeadlineExceededException(string? message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="DeadlineExceededException"/> class.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="deadline">The budget that was spent.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    internal DeadlineExceededException(string? message, TimeSpan deadline, Exception? innerException)
        : base(message, innerException)
    {
        Deadline = deadline;
    }

    /// <summary>Gets the budget that was spent, or <see langword="null"/> when unknown.</summary>
    public TimeSpan? Deadline { get; }
}
