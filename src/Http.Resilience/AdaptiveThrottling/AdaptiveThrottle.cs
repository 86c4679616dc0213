namespace Http.Resilience;

/// <summary>The request and accept counts of one client, and the rejection probability they give.</summary>
internal sealed class AdaptiveThrottle
{
    private readonly WindowedSum _requests;
    private readonly WindowedSum _accepts;

    public AdaptiveThrottle(AdaptiveThrottlingOptions options, long timestampFrequency)
    {
        K = options.K;
        Window = options.Window;
        _requests = new WindowedSum(options.Window, timestampFrequency);
        _accepts = new WindowedSum(options.Window, timestampFrequency);
    }

    public double K { get; }

    public TimeSpan Window { get; }

    /// <summary>Gets the throttle of <paramref name="slot"/>, made anew when the options changed (a reload).</summary>
    public static AdaptiveThrottle GetOrCreate(ref AdaptiveThrottle? slot, AdaptiveThrottlingOptions options, TimeProvider timeProvider)
    {
        var throttle = Volatile.Read(ref slot);
        if (throttle is not null && throttle.K == options.K && throttle.Window == options.Window)
        {
            return throttle;
        }

        var fresh = new AdaptiveThrottle(options, timeProvider.TimestampFrequency);
        Interlocked.CompareExchange(ref slot, fresh, throttle);
        return Volatile.Read(ref slot)!;
    }

    /// <summary>SRE's client request rejection probability: <c>max(0, (requests - K * accepts) / (requests + 1))</c>.</summary>
    public double RejectionProbability(long timestamp)
    {
        double requests = _requests.Sum(timestamp);
        double accepts = _accepts.Sum(timestamp);
        return Math.Max(0, (requests - (K * accepts)) / (requests + 1));
    }

    public void RecordRequest(long timestamp) => _requests.Add(timestamp, 1);

    public void RecordAccept(long timestamp) => _accepts.Add(timestamp, 1);
}
