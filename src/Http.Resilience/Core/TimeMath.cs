using System.Diagnostics;

namespace Http.Resilience;

/// <summary>Duration arithmetic where <see cref="Timeout.InfiniteTimeSpan"/> means "no bound" (greater than any duration).</summary>
internal static class TimeMath
{
    public static bool IsInfinite(TimeSpan value) => value == Timeout.InfiniteTimeSpan;

    /// <summary>Whether <paramref name="value"/> is a valid budget or timeout: positive and at most 1 day, or infinite.</summary>
    public static bool IsBudget(TimeSpan value) => IsInfinite(value) || (value > TimeSpan.Zero && value <= HttpResilienceDefaults.MaxDuration);

    /// <summary>Whether <paramref name="value"/> is longer than <paramref name="than"/>, infinite being the longest.</summary>
    public static bool IsLonger(TimeSpan value, TimeSpan than) => !IsInfinite(than) && (IsInfinite(value) || value > than);

    public static TimeSpan Min(TimeSpan a, TimeSpan b)
    {
        if (IsInfinite(a))
        {
            return b;
        }

        if (IsInfinite(b))
        {
            return a;
        }

        return a < b ? a : b;
    }

    /// <summary>The budget left of <paramref name="budget"/> after <paramref name="elapsed"/>, never negative.</summary>
    public static TimeSpan Remaining(TimeSpan budget, TimeSpan elapsed)
    {
        Debug.Assert(elapsed >= TimeSpan.Zero, "Elapsed time is measured from a monotonic clock.");
        if (IsInfinite(budget))
        {
            return Timeout.InfiniteTimeSpan;
        }

        var left = budget - elapsed;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }
}
