using System.Globalization;
using System.Threading.RateLimiting;

namespace Http.Resilience;

/// <summary>
/// What the chain asks of any <see cref="RateLimiter"/>, its own or one a user plugged in (a distributed one, say): a
/// permit without waiting, a failure kept as a value rather than thrown through the chain, and the wait a refused lease
/// names, whatever its metadata is called.
/// </summary>
internal static class LimiterLeases
{
    /// <summary>Asks for a permit without waiting; a limiter that throws (its store is down, say) gives its exception back.</summary>
    public static RateLimitLease? TryAttempt(RateLimiter limiter, out Exception? failure)
    {
        try
        {
            failure = null;
            return limiter.AttemptAcquire();
        }
        catch (Exception ex)
        {
            failure = ex;
            return null;
        }
    }

    /// <summary>
    /// Gets the wait a lease names: the standard <see cref="MetadataName.RetryAfter"/>, or else the first metadata whose
    /// name says "retry after" in any spelling (<c>retry-after-ms</c>, <c>RetryAfterSeconds</c>, ...). A
    /// <see cref="TimeSpan"/> is taken as it is; a number is seconds unless the name says milliseconds; a string is a
    /// number of seconds or a <see cref="TimeSpan"/>.
    /// </summary>
    public static TimeSpan? RetryAfterOf(RateLimitLease lease)
    {
        // Untyped: a limiter may put whole seconds under the standard name, which the typed accessor would fail to cast.
        if (lease.TryGetMetadata(MetadataName.RetryAfter.Name, out var standard) && ToTimeSpan(standard, milliseconds: false) is { } named && named >= TimeSpan.Zero)
        {
            return named;
        }

        foreach (var name in lease.MetadataNames)
        {
            var plain = new string(name.Where(char.IsAsciiLetterOrDigit).ToArray()).ToUpperInvariant();
            if (!plain.Contains("RETRYAFTER", StringComparison.Ordinal) || !lease.TryGetMetadata(name, out var value))
            {
                continue;
            }

            var milliseconds = plain.EndsWith("MS", StringComparison.Ordinal) || plain.Contains("MILLI", StringComparison.Ordinal);
            if (ToTimeSpan(value, milliseconds) is { } wait && wait >= TimeSpan.Zero)
            {
                return wait;
            }
        }

        return null;
    }

    private static TimeSpan? ToTimeSpan(object? value, bool milliseconds)
    {
        if (value is TimeSpan span)
        {
            return span;
        }

        double? number = value switch
        {
            int i => i,
            long l => l,
            double d when double.IsFinite(d) => d,
            float f when float.IsFinite(f) => f,
            decimal m => (double)m,
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed) => parsed,
            string s when TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var parsedSpan) => parsedSpan.TotalSeconds * (milliseconds ? 1000 : 1),
            _ => null,
        };

        if (number is not { } n || n > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return null;
        }

        return milliseconds ? TimeSpan.FromMilliseconds(n) : TimeSpan.FromSeconds(n);
    }
}
