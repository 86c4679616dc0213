namespace Http.Resilience;

/// <summary>
/// The deadline inherited from the request being served, flowing with the async context: every Http.Resilience call
/// made inside it starts with no more than the time it has left.
/// </summary>
/// <remarks>
/// <c>Http.Resilience.AspNetCore</c>'s middleware begins one per incoming request that carries a deadline. Code outside
/// ASP.NET Core (a queue consumer, say) can begin one itself. When the inherited time is already spent, a call fails
/// with <see cref="DeadlineExceededException"/> before anything is sent.
/// </remarks>
public static class InheritedDeadline
{
    private static readonly AsyncLocal<Scope?> Current = new();

    /// <summary>Gets the time left of the current inherited deadline (never negative; infinite when unbounded), or <see langword="null"/> when there is none.</summary>
    public static TimeSpan? TimeLeft => Current.Value?.TimeLeft;

    /// <summary>Begins an inherited deadline for the current async flow; dispose the result to end it.</summary>
    /// <param name="timeLeft">The time left (<see cref="Timeout.InfiniteTimeSpan"/>: no bound; negative: spent). An enclosing deadline with less time left still wins.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <returns>A handle that restores the previous deadline when disposed.</returns>
    public static IDisposable Begin(TimeSpan timeLeft, TimeProvider? timeProvider = null)
    {
        var previous = Current.Value;
        var scope = new Scope(previous, timeLeft, timeProvider ?? TimeProvider.System);
        Current.Value = scope;
        return scope;
    }

    private sealed class Scope : IDisposable
    {
        private readonly Scope? _previous;
        private readonly TimeSpan _budget;
        private readonly TimeProvider _timeProvider;
        private readonly long _start;

        public Scope(Scope? previous, TimeSpan budget, TimeProvider timeProvider)
        {
            _previous = previous;
            _budget = TimeMath.IsInfinite(budget) || budget >= TimeSpan.Zero ? budget : TimeSpan.Zero;
            _timeProvider = timeProvider;
            _start = timeProvider.GetTimestamp();
        }

        public TimeSpan TimeLeft
        {
            get
            {
                var own = TimeMath.Remaining(_budget, _timeProvider.GetElapsedTime(_start));
                return _previous is null ? own : TimeMath.Min(own, _previous.TimeLeft);
            }
        }

        public void Dispose() => Current.Value = _previous;
    }
}
