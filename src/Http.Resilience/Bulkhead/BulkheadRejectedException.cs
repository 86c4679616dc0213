namespace Http.Resilience;

/// <summary>Thrown without calling the dependency when its bulkhead is full (and its queue, if any, too).</summary>
public sealed class BulkheadRejectedException : HttpResilienceException
{
    /// <summary>Initializes a new instance of the <see cref="BulkheadRejectedException"/> class.</summary>
    public BulkheadRejectedException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="BulkheadRejectedException"/> class with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public BulkheadRejectedException(string? message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="BulkheadRejectedException"/> class with a message and an inner exception.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public BulkheadRejectedException(string? message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
