namespace Http.Resilience;

/// <summary>Gets or swaps a <see cref="IReloadableState{TSelf, TOptions}"/> kept in a field, without a lock.</summary>
internal static class ReloadableState
{
    /// <summary>Gets the state in <paramref name="slot"/>, made anew when the options changed (a reload).</summary>
    public static T GetOrCreate<T, TOptions>(ref T? slot, TOptions options, TimeProvider timeProvider)
        where T : class, IReloadableState<T, TOptions>
    {
        var state = Volatile.Read(ref slot);
        if (state is not null && state.Matches(options))
        {
            return state;
        }

        var fresh = T.Create(options, timeProvider.TimestampFrequency);
        Interlocked.CompareExchange(ref slot, fresh, state);
        return Volatile.Read(ref slot)!;
    }
}
