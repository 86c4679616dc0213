using System.Net.Http.Headers;

namespace Http.Resilience;

/// <summary>Reads the wait a server names: <c>Retry-After</c>, or the rate-limit headers. Never throws.</summary>
/// <remarks>
/// <para>
/// <c>Retry-After</c> (RFC 9110 section 10.2.3) comes first, in both of its forms: delta-seconds are taken as they are;
/// an HTTP-date is measured against the <see cref="TimeProvider"/>'s clock and a date in the past means "now".
/// </para>
/// <para>
/// Without it, the IETF RateLimit header draft: <c>RateLimit: "default";r=0;t=30</c> (a policy with no requests
/// remaining resets in <c>t</c> seconds; with several exhausted policies, the latest reset counts), or its older form
/// <c>RateLimit-Remaining: 0</c> with <c>RateLimit-Reset: 30</c>. Last, the de facto <c>X-RateLimit-Remaining: 0</c>
/// with <c>X-RateLimit-Reset</c>, which servers send either as delta-seconds or as Unix epoch seconds: a value above
/// 1,000,000,000 (September 2001 as epoch seconds, 31 years as a delta) is read as epoch seconds, anything smaller as
/// delta-seconds.
/// </para>
/// <para>
/// A missing, malformed, negative or out-of-range value yields <see langword="false"/>, and the caller falls back to the
/// computed backoff.
/// </para>
/// </remarks>
internal static class RetryAfterParser
{
    private const long EpochThreshold = 1_000_000_000;

    public static bool TryGetDelay(HttpResponseMessage response, DateTimeOffset now, out TimeSpan delay)
        => TryGetDelay(response.Headers.RetryAfter, now, out delay) || TryGetRateLimitReset(response, now, out delay);

    /// <summary>Reads the rate-limit headers (the IETF draft and the de facto <c>X-RateLimit-*</c>) for an exhausted quota's reset.</summary>
    public static bool TryGetRateLimitReset(HttpResponseMessage response, DateTimeOffset now, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        var headers = response.Headers.NonValidated;
        if (headers.TryGetValues("RateLimit", out var structured))
        {
            long? latest = null;
            foreach (var field in structured)
            {
                foreach (var item in field.Split(','))
                {
                    if (Parameter(item, "r") == 0 && Parameter(item, "t") is { } t && t >= 0)
                    {
                        latest = Math.Max(latest ?? 0, t);
                    }
                }
            }

            if (latest is { } seconds)
            {
                delay = TimeSpan.FromSeconds(Math.Min(seconds, (long)TimeSpan.MaxValue.TotalSeconds / 2));
                return true;
            }
        }

        return TryGetReset(headers, "RateLimit-Remaining", "RateLimit-Reset", now, epochAllowed: false, out delay) ||
               TryGetReset(headers, "X-RateLimit-Remaining", "X-RateLimit-Reset", now, epochAllowed: true, out delay);
    }

    private static bool TryGetReset(HttpHeadersNonValidated headers, string remainingName, string resetName, DateTimeOffset now, bool epochAllowed, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        if (!headers.TryGetValues(remainingName, out var remaining) || Number(remaining.ToString()) != 0 ||
            !headers.TryGetValues(resetName, out var reset) || Number(reset.ToString()) is not { } value || value < 0)
        {
            return false;
        }

        if (epochAllowed && value > EpochThreshold)
        {
            var until = DateTimeOffset.FromUnixTimeSeconds(Math.Min(value, 253_402_300_799)) - now; // at most year 9999
            delay = until > TimeSpan.Zero ? until : TimeSpan.Zero;
            return true;
        }

        delay = TimeSpan.FromSeconds(Math.Min(value, EpochThreshold));
        return true;
    }

    /// <summary>An integer parameter <c>;name=value</c> of one structured-field item, or <see langword="null"/>.</summary>
    private static long? Parameter(string item, string name)
    {
        foreach (var part in item.Split(';'))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && part.AsSpan(0, equals).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return Number(part[(equals + 1)..]);
            }
        }

        return null;
    }

    private static long? Number(string? value)
        => long.TryParse(value?.Trim(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var number) ? number : null;

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
