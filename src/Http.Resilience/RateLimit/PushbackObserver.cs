using System.Net;

namespace Http.Resilience;

/// <summary>Notes what a logical request's response says about the dependency's quota, for the pushback gate and share.</summary>
internal static class PushbackObserver
{
    /// <summary>
    /// Notes what the response says about the dependency's quota: a 429 or 503 that names a wait closes the gate (when on);
    /// while the pushback share is watching, a 429 that names a wait is pushback and any other response an accept.
    /// </summary>
    public static void Observe(HttpResponseMessage response, ResilienceContext context)
    {
        var pushback = context.Options.Pushback;
        var wait = TimeSpan.Zero;
        var named = (int)response.StatusCode is 429 or 503 && context.TryGetServerWait(response, out wait);
        if (!named && !pushback.KeepWithinQuota)
        {
            return;
        }

        var now = context.TimeProvider.GetTimestamp();
        if (named && pushback.Gate)
        {
            var gateWait = TimeMath.Min(wait, context.Options.Retry.MaxRetryAfter);
            context.Client.CloseGate(now + (long)(gateWait.TotalSeconds * context.TimeProvider.TimestampFrequency));
        }

        if (pushback.KeepWithinQuota)
        {
            var share = context.Client.GetPushback(context.TimeProvider.TimestampFrequency);
            if (named && response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                share.RecordPushback(now, wait);
            }
            else if (share.IsWatching(now))
            {
                share.RecordAccept(now);
            }
        }
    }
}
