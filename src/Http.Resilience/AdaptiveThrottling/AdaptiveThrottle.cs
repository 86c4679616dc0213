namespace Http.Resilience;

/// <summary>The request and accept counts of one client, and the rejection probability they give.</summary>
internal sealed class AdaptiveThrottle : IReloadableState<AdaptiveThrottle, AdaptiveThrottlingOptions>
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

    public static AdaptiveThrottle Create(AdaptiveThrottlingOptions options, long timestampFrequency) => new(options, timestampFrequency);

    public bool Matches(AdaptiveThrottlingOptions options) => options.K == K && options.Window == Window;

    /// <summary>SRE's client request rejection probability over this client's window (see <see cref="RejectionProbability(double, double, double)"/>).</summary>
    public double RejectionProbability(long timestamp) => RejectionProbability(_requests.Sum(timestamp), _accepts.Sum(timestamp), K);

    /// <summary>
    /// SRE's client request rejection probability, <c>max(0, (requests - K * accepts) / (requests + 1))</c>: it lets the
    /// client send about <c>K</c> requests per accepted one, however many it is asked for.
    /// </summary>
    public static double RejectionProbability(double requests, double accepts, double k) => Math.Max(0, (requests - (k * accepts)) / (requests + 1));

    public void RecordRequest(long timestamp) => _requests.Add(timestamp, 1);

    public void RecordAccept(long timestamp) => _accepts.Add(timestamp, 1);
}
