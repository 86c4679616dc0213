namespace Http.Resilience;

/// <summary>
/// Long-lived state built from a client's options (a retry budget, an adaptive throttle) that must be built anew when a
/// reload changes those options, and kept as it is otherwise.
/// </summary>
/// <typeparam name="TSelf">The state's own type.</typeparam>
/// <typeparam name="TOptions">The options it is built from.</typeparam>
internal interface IReloadableState<TSelf, TOptions>
    where TSelf : class, IReloadableState<TSelf, TOptions>
{
    /// <summary>Builds the state for <paramref name="options"/>, on a clock of <paramref name="timestampFrequency"/> ticks a second.</summary>
    static abstract TSelf Create(TOptions options, long timestampFrequency);

    /// <summary>Whether the state was built from options equal to <paramref name="options"/>.</summary>
    bool Matches(TOptions options);
}
