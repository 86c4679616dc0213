using System.Diagnostics;

namespace Http.Resilience;

/// <summary>
/// The state of one logical request, created by <see cref="DeadlineHandler"/> and shared by every inner layer through
/// <see cref="HttpRequestMessage.Options"/>: the options snapshot, the budget and the caller's own token.
/// </summary>
/// <remarks>
/// Budget arithmetic: the budget starts when the request enters the chain (a monotonic timestamp from the
/// <see cref="TimeProvider"/>); <see cref="Remaining"/> is the effective deadline minus the time elapsed since, never negative.
/// The effective deadline is the smaller of <see cref="HttpResilienceOptions.Deadline"/> and a user-set <see cref="HttpClient.Timeout"/>.
/// </remarks>
internal sealed class ResilienceContext
{
    public static readonly HttpRequestOptionsKey<ResilienceContext> Key = new("Http.Resilience.Context");

    private readonly long _startTimestamp;

    public ResilienceContext(string clientName, HttpResilienceOptions options, TimeProvider timeProvider, TimeSpan deadline, CancellationToken callerToken)
    {
        Debug.Assert(deadline > TimeSpan.Zero || TimeMath.IsInfinite(deadline), "Deadlines are validated.");
        ClientName = clientName;
        Options = options;
        TimeProvider = timeProvider;
        Deadline = deadline;
        CallerToken = callerToken;
        _startTimestamp = timeProvider.GetTimestamp();
    }

    public string ClientName { get; }

    /// <summary>Gets the options snapshot taken when the request entered the chain: one per request, even across a reload.</summary>
    public HttpResilienceOptions Options { get; }

    public TimeProvider TimeProvider { get; }

    /// <summary>Gets the effective budget of this request.</summary>
    public TimeSpan Deadline { get; }

    /// <summary>Gets the token the caller passed in: when it fires, the caller cancelled; anything else is ours.</summary>
    public CancellationToken CallerToken { get; }

    /// <summary>Gets or sets the number of attempts sent so far.</summary>
    public int Attempts { get; set; }

    public TimeSpan Elapsed => TimeProvider.GetElapsedTime(_startTimestamp);

    /// <summary>Gets the budget left: infinite when there is no deadline, otherwise never negative.</summary>
    public TimeSpan Remaining => TimeMath.Remaining(Deadline, Elapsed);

    public bool IsExpired => Remaining == TimeSpan.Zero;

    /// <summary>Whether waiting <paramref name="delay"/> still leaves some budget for another attempt.</summary>
    public bool HasTimeFor(TimeSpan delay)
    {
        var remaining = Remaining;
        return TimeMath.IsInfinite(remaining) || delay < remaining;
    }

    public static ResilienceContext? Get(HttpRequestMessage request)
        => request.Options.TryGetValue(Key, out var context) ? context : null;

    public DeadlineExceededException CreateDeadlineExceeded(Exception? innerException)
        => new(
            $"The request of HttpClient '{ClientName}' did not complete within its deadline of '{Deadline}' " +
            $"(elapsed {Elapsed.TotalMilliseconds:F0} ms over {Attempts} attempt(s)).",
            Deadline,
            innerException);
}
