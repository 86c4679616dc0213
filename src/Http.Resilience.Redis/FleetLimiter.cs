using System.Threading.RateLimiting;

namespace Http.Resilience.Redis;

/// <summary>
/// What the fleet rate and concurrency limits share: a store in Redis, this replica's local share of the limit, and the
/// outage policy that answers while Redis does not.
/// </summary>
/// <remarks>
/// <see cref="RateLimiter.AttemptAcquire"/> never blocks on Redis: while Redis answers, it says "ask asynchronously" (a
/// refused lease without a wait) and the chain waits in <see cref="RateLimiter.AcquireAsync"/>, within the request's
/// budget; while Redis is unavailable, the policy answers at once.
/// </remarks>
internal abstract class FleetLimiter : RateLimiter
{
    private readonly string _description;

    protected FleetLimiter(FleetStore store, FleetLimitOptions options, RateLimiter localShare, string description)
    {
        Store = store;
        Options = options;
        LocalShare = localShare;
        _description = description;
    }

    public override TimeSpan? IdleDuration => null;

    /// <summary>Gets a value indicating whether this replica cannot reach Redis now and follows the outage policy.</summary>
    internal bool IsStoreUnavailable => Store.IsUnavailable;

    protected FleetStore Store { get; }

    protected FleetLimitOptions Options { get; }

    /// <summary>Gets this replica's share of the limit, used while Redis is unavailable under <see cref="WhenStoreUnavailable.LocalShare"/>.</summary>
    protected RateLimiter LocalShare { get; }

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
        => !Store.IsUnavailable ? FleetLeases.AskAsynchronously : Options.WhenStoreUnavailable switch
        {
            WhenStoreUnavailable.FailOpen => FleetLeases.Granted,
            WhenStoreUnavailable.FailClosed => FleetLeases.AskAsynchronously, // the asynchronous path says why it refuses
            _ => LocalShare.AttemptAcquire(permitCount),
        };

    /// <summary>The policy's answer while Redis is unavailable.</summary>
    protected ValueTask<RateLimitLease> WithoutStoreAsync(int permitCount, CancellationToken cancellationToken) => Options.WhenStoreUnavailable switch
    {
        WhenStoreUnavailable.FailOpen => new ValueTask<RateLimitLease>(FleetLeases.Granted),
        WhenStoreUnavailable.FailClosed => ValueTask.FromException<RateLimitLease>(new InvalidOperationException(
            $"Redis, the store of the fleet {_description} '{Options.Key}', is unavailable, and the limit fails closed.")),
        _ => LocalShare.AcquireAsync(permitCount, cancellationToken),
    };

    /// <remarks>The container disposes singletons asynchronously: the timers and the connection must go then too.</remarks>
    protected override ValueTask DisposeAsyncCore()
    {
        Dispose(true);
        return ValueTask.CompletedTask;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Store.Dispose();
            LocalShare.Dispose();
        }

        base.Dispose(disposing);
    }
}
