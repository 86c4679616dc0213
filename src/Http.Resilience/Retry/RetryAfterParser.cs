using System.Net.Http.Headers;

namespace Http.Resilience;

/// <summary>Reads <c>Retry-After</c> (RFC 9110 section 10.2.3) in both of its forms. Never throws.</summary>
/// <remarks>
/// Delta-seconds are taken as they are; an HTTP-date is measured against the <see cref="TimeProvider"/>'s clock and a
/// date in the past means "now". A missing, malformed, negative or out-of-range value yields <see langword="false"/>,
/// and the caller falls back to the computed backoff.
/// </remarks>
internal static class RetryAfterParser
{
    public static bool TryGetDelay(HttpResponseMessage response, DateTimeOffset now, out TimeSpan delay)
        => TryGetDelay(response.Headers.RetryAfter, now, out delay);

    public static bool TryParse(string? value, DateTimeOffset now, out TimeSpan delay)
    {
        if (!RetryConditionHeaderValue.TryParse(value, out var parsed))
        {
            delay = TimeSpan.Zero;
            return false;
        }

        return TryGetDelay(parsed, now, out delay);
    }

    private static bool TryGetDelay(RetryConditionHeaderValue? value, DateTimeOffset now, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        if (value is null)
        {
            return false;
        }

        if (value.Delta is { } delta)
        {
            if (delta < TimeSpan.Zero)
            {
                return false;
            }

            delay = delta;
            return true;
        }

        if (value.Date is { } date)
        {
            var until = date - now;
            delay = until > TimeSpan.Zero ? until : TimeSpan.Zero;
            return true;
        }

        return false;
    }
}
