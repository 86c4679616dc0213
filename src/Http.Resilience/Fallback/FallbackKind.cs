namespace Http.Resilience;

/// <summary>What kind of fallback was served.</summary>
public enum FallbackKind
{
    /// <summary>The last good response of the same URL.</summary>
    Stale,

    /// <summary>The response of the <see cref="FallbackOptions.UseResponse"/> delegate.</summary>
    Default,
}
