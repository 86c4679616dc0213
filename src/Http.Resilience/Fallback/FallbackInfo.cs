namespace Http.Resilience;

/// <summary>Describes a fallback response.</summary>
/// <param name="Kind">What was served.</param>
/// <param name="Reason">Why.</param>
/// <param name="Age">How old a stale response is; <see langword="null"/> for a default one.</param>
public readonly record struct FallbackInfo(FallbackKind Kind, FallbackReason Reason, TimeSpan? Age);
