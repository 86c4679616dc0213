using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;

namespace Http.Resilience;

/// <summary>The optional outbound rate limit, outside the bulkhead: waits for a token within the budget, or rejects.</summary>
/// <remarks>
/// It also keeps what the dependency says about its quota. The pushback gate (<see cref="PushbackOptions.Gate"/>): a 429
/// or 503 that names a wait closes it for the whole client, and while it is closed requests are rejected at once, as a
/// limiter that has no token would. The pushback share (<see cref="PushbackOptions.KeepWithinQuota"/>): while the
/// dependency keeps naming waits, new requests beyond about 1.5 per accepted one are rejected here, before they take a
/// permit of the bulkhead. What the responses say is noted by <see cref="PushbackObserver"/>: in the circuit layer, which
/// looks at every logical response anyway, or here when the circuit is off.
/// </remarks>
internal sealed class RateLimitHandler : ResilienceHandler
{
    private readonly ResilienceRegistry _registry;

    public RateLimitHandler(ResilienceRegistry registry)
    {
        _registry = registry;
    }

    internal override ValueTask<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        var pushback = context.Options.Pushback;
        if (pushback.Gate)
        {
            var gateUntil = context.Client.GateUntil;
            if (gateUntil > context.StartTimestamp)
            {
                var left = context.TimeProvider.GetElapsedTime(context.StartTimestamp, gateUntil);
                return ValueTask.FromException<HttpResponseMessage>(Reject(context, left, $"the server asked this client to wait {left.TotalMilliseconds:F0} ms more"));
            }
        }
        else if (!pushback.KeepWithinQuota)
        {
            return SendLimitedAsync(request, context, cancellationToken);
        }

        if (pushback.KeepWithinQuota)
        {
            var share = context.Client.GetPushback(context.TimeProvider.TimestampFrequency);
            var now = context.StartTimestamp;
            if (share.IsWatching(now))
            {
                var probability = share.SheddingProbability(now);
                share.RecordRequest(now);
                if (probability > 0 && _registry.ThrottleRandom() < probability)
                {
                    DownstreamGiveUp.Note();
                    return ValueTask.FromException<HttpResponseMessage>(Reject(
                        context,
                        share.LastWait,
                        string.Create(CultureInfo.InvariantCulture, $"the server has been turning this client's requests away with a named wait; it keeps within what the server admits (probability {probability:0.00})")));
                }
            }
        }

        if (context.Options.CircuitBreaker is { Enabled: true })
        {
            // The circuit already looks at every logical response; it notes the pushback there, sparing every request an
            // extra asynchronous step here.
            return SendLimitedAsync(request, context, cancellationToken);
        }

        ValueTask<HttpResponseMessage> pending;
        try
        {
            pending = SendLimitedAsync(request, context, cancellationToken);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<HttpResponseMessage>(ex);
        }

        if (!pending.IsCompletedSuccessfully)
        {
            return ObserveWhenDoneAsync(pending, context);
        }

        var response = pending.Result; // a pooled value task may be consumed once: hand on the response, not the task
        PushbackObserver.Observe(response, context);
        return new ValueTask<HttpResponseMessage>(response);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // its state machine is reused, not allocated per request
    private static async ValueTask<HttpResponseMessage> ObserveWhenDoneAsync(ValueTask<HttpResponseMessage> pending, ResilienceContext context)
    {
        var response = await pending.ConfigureAwait(false);
        PushbackObserver.Observe(response, context);
        return response;
    }

    private ValueTask<HttpResponseMessage> SendLimitedAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        if (context.Options.RateLimit is not { Enabled: true } options)
        {
            return SendNextAsync(request, context, cancellationToken);
        }

        var custom = options.GetCustomLimiter();
        var limiter = custom ?? _registry.GetOrAddRateLimit(context.ClientName).GetLimiter(options);
        var lease = LimiterLeases.TryAttempt(limiter, out var failure);
        if (lease is null)
        {
            return ValueTask.FromException<HttpResponseMessage>(Failed(context, limiter, failure!));
        }

        return lease.IsAcquired
            ? SendWithLeaseAsync(request, context, lease, cancellationToken)
            : WaitThenSendAsync(request, context, limiter, custom is not null, options, lease, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // its state machine is reused, not allocated per request
    private async ValueTask<HttpResponseMessage> SendWithLeaseAsync(HttpRequestMessage request, ResilienceContext context, RateLimitLease lease, CancellationToken cancellationToken)
    {
        using (lease)
        {
            return await SendNextAsync(request, context, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits for a token within the budget left. A limiter of the user's gets the same rules as the built-in one: at most
    /// <see cref="RateLimitOptions.MaxQueue"/> requests wait for it, no wait outlasts the budget even if it ignores its
    /// token, and whatever it throws (its store is down) becomes a <see cref="RateLimitRejectedException"/> around it.
    /// </summary>
    private async ValueTask<HttpResponseMessage> WaitThenSendAsync(
        HttpRequestMessage request, ResilienceContext context, RateLimiter limiter, bool custom, RateLimitOptions options, RateLimitLease failed, CancellationToken cancellationToken)
    {
        var named = LimiterLeases.RetryAfterOf(failed);
        failed.Dispose();
        var waiters = custom ? _registry.GetOrAddRateLimit(context.ClientName) : null;
        if (waiters is not null && !waiters.TryEnterQueue(options.MaxQueue))
        {
            throw Reject(context, named, $"{options.MaxQueue} request(s) already wait for a permit of the limiter ({limiter.GetType().Name}), as many as RateLimit.MaxQueue allows");
        }

        var wait = context.Remaining;
        RateLimitLease? lease;
        try
        {
            lease = await BudgetedAcquire.AcquireAsync(limiter, wait, context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!context.CallerCancelled)
        {
            throw Failed(context, limiter, ex);
        }
        finally
        {
            waiters?.LeaveQueue();
        }

        if (lease is null)
        {
            throw Reject(context, named, wait > TimeSpan.Zero ? $"no token arrived within the {wait.TotalMilliseconds:F0} ms of budget left" : "no budget was left to wait for a token");
        }

        if (!lease.IsAcquired)
        {
            var retryAfter = LimiterLeases.RetryAfterOf(lease) ?? named;
            lease.Dispose();
            var after = retryAfter is { } a ? $"; it names a wait of {a.TotalMilliseconds:F0} ms" : string.Empty;
            throw Reject(context, retryAfter, custom
                ? $"the limiter ({limiter.GetType().Name}) refused a permit{after}"
                : $"no token was free and the {options.MaxQueue} place(s) of its queue (RateLimit.MaxQueue) were taken");
        }

        using (lease)
        {
            return await SendNextAsync(request, context, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A limiter that threw: the request is rejected, with what the limiter threw inside.</summary>
    private RateLimitRejectedException Failed(ResilienceContext context, RateLimiter limiter, Exception failure)
        => Reject(context, null, $"its limiter ({limiter.GetType().Name}) failed: {failure.Message}", failure);

    private RateLimitRejectedException Reject(ResilienceContext context, TimeSpan? retryAfter, string why, Exception? inner = null)
    {
        _registry.Metrics?.RecordRateLimitRejection(context.ClientName);
        Log.RateLimitRejected(_registry.Logger, context.ClientName, why);
        context.AddEvent("rate_limit_rejected", ResilienceActivity.Tag("http.resilience.reason", why));
        return new($"The outbound rate limit of HttpClient '{context.ClientName}' rejected the request because {why}. The request was not sent.", retryAfter, inner);
    }
}
