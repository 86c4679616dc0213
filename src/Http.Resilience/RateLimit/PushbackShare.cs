namespace Http.Resilience;

/// <summary>
/// What share of a client's requests its dependency turns away with a named wait, and the share of new requests the
/// client then keeps to itself (see <see cref="PushbackOptions.KeepWithinQuota"/>).
/// </summary>
/// <remarks>
/// <para>
/// Google SRE's client-side throttling, fed only by pushback: over the last <see cref="Window"/>, a new request is
/// rejected locally with probability <c>max(0, (requests - K * accepts) / (requests + 1))</c>, where requests counts every
/// request the client was asked to send (the ones it rejected too), and accepts the responses that were not a 429 naming
/// a wait. So a client asked for 400 requests a second by a dependency that admits 100 sends it about
/// <c>K * 100</c>. Only a 429 is pushback here: a 503, named wait or not, says the dependency is down, which is the
/// circuit's business (a 503's named wait sets the circuit's break).
/// </para>
/// <para>
/// K is 1.5, not SRE's 2: a named wait is the server saying exactly that this client is over its quota, not a guess at
/// overload, so half as much again as it admits keeps every slot of the quota in use (the server's own burst absorbs the
/// randomness) and anything more is requests it will only turn away. Fewer than <see cref="MinimumPushbacks"/> named waits
/// in the window change nothing: a few 429s are a burst, and the retry loop waits them out.
/// </para>
/// <para>
/// Nothing is counted while the dependency has named no wait for a whole window: the hot path then reads one field.
/// </para>
/// </remarks>
internal sealed class PushbackShare
{
    public const double K = 1.5;
    public const int MinimumPushbacks = 10;
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly WindowedSum _requests;
    private readonly WindowedSum _accepts;
    private readonly WindowedSum _pushbacks;
    private readonly long _windowTicks;
    private long _lastPushback = long.MinValue;
    private long _lastWaitTicks;

    public PushbackShare(long timestampFrequency)
    {
        _requests = new WindowedSum(Window, timestampFrequency);
        _accepts = new WindowedSum(Window, timestampFrequency);
        _pushbacks = new WindowedSum(Window, timestampFrequency);
        _windowTicks = (long)(Window.TotalSeconds * timestampFrequency);
    }

    /// <summary>Gets the last wait the dependency named.</summary>
    public TimeSpan LastWait => TimeSpan.FromTicks(Volatile.Read(ref _lastWaitTicks));

    /// <summary>Whether the dependency named a wait within the last window: only then are requests counted.</summary>
    public bool IsWatching(long timestamp)
    {
        var last = Volatile.Read(ref _lastPushback);
        return last != long.MinValue && timestamp - last < _windowTicks;
    }

    /// <summary>Gets the probability with which a new request is rejected locally now.</summary>
    public double SheddingProbability(long timestamp)
    {
        if (!IsWatching(timestamp))
        {
            return 0;
        }

        var pushbacks = _pushbacks.Sum(timestamp);
        if (pushbacks < MinimumPushbacks)
        {
            return 0;
        }

        return AdaptiveThrottle.RejectionProbability(_requests.Sum(timestamp), _accepts.Sum(timestamp), K);
    }

    /// <summary>Counts a request the client was asked to send (one it then rejects too).</summary>
    public void RecordRequest(long timestamp) => _requests.Add(timestamp, 1);

    /// <summary>Counts a response that did not turn the request away (exceptions and local rejections count as neither).</summary>
    public void RecordAccept(long timestamp) => _accepts.Add(timestamp, 1);

    /// <summary>Records a 429 that named <paramref name="wait"/> (with <c>Retry-After</c> or the rate-limit headers).</summary>
    public void RecordPushback(long timestamp, TimeSpan wait)
    {
        if (!IsWatching(timestamp))
        {
            // The window starts now: this request was not counted on its way in, so count it here.
            _requests.Add(timestamp, 1);
        }

        _pushbacks.Add(timestamp, 1);
        Volatile.Write(ref _lastWaitTicks, wait.Ticks);
        Volatile.Write(ref _lastPushback, timestamp);
    }
}
