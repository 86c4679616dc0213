namespace Http.Resilience;

/// <summary>Thrown without calling the dependency while its circuit is open.</summary>
public sealed class CircuitOpenException : HttpResilienceException
{
    /// <summary>Initializes a new instance of the <see cref="CircuitOpenException"/> class.</summary>
    public CircuitOpenException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CircuitOpenException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public CircuitOpenException(string? message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CircuitOpenException"/> class with a message and an inner exception.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public CircuitOpenException(string? message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CircuitOpenException"/> class.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="retryAfter">The time until the circuit lets a probe through.</param>
    internal CircuitOpenException(string? message, TimeSpan? retryAfter)
        : base(message)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>Gets the time until the circuit lets a probe through, when known.</summary>
    public TimeSpan? RetryAfter { get; }
}
