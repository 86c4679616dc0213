namespace Http.Resilience;

/// <summary>A reloaded configuration that failed validation, while the client keeps its last valid options.</summary>
/// <param name="Message">The validation failure.</param>
/// <param name="RetryAt">The timestamp (of the registry's <see cref="TimeProvider"/>) before which it is not tried again.</param>
internal sealed record ConfigurationRejection(string Message, long RetryAt);
