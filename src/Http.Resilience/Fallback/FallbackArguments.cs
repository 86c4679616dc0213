namespace Http.Resilience;

/// <summary>Why the chain failed, as given to a fallback delegate.</summary>
/// <param name="Reason">What failed.</param>
/// <param name="Exception">The exception, when the chain ended in one.</param>
/// <param name="StatusCode">The status code, when the chain ended in a 5xx response.</param>
public readonly record struct FallbackArguments(FallbackReason Reason, Exception? Exception, int? StatusCode);
