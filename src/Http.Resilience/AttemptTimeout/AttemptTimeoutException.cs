namespace Http.Resilience;

/// <summary>One attempt ran out of its own timeout while budget remained: transient, so the retry layer may try again.</summary>
internal sealed class AttemptTimeoutException : HttpResilienceException
{
    public AttemptTimeoutException(string message, TimeoutException innerException)
        : base(message, innerException)
    {
    }
}
