using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;

namespace Http.Resilience;

/// <summary>The optional outbound rate limit, outside the bulkhead: waits for a token within the budget, or rejects.</summary>
/// <remarks>
/// It also keeps the pushback gate (<see cref="PushbackOptions.Gate"/>): a 429 or 503 that names a wait closes it for the
/// whole client, and while it is closed requests are rejected at once, as a limiter that has no token would.
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
        if (context.Options.Pushback.Gate)
        {
            var gateUntil = context.Client.GateUntil;
            if (gateUntil > context.StartTimestamp)
            {
                var left = context.TimeProvider.GetElapsedTime(context.StartTimestamp, gateUntil);
                return ValueTask.FromException<HttpResponseMessage>(Reject(context, left, $"the server asked this client to wait {left.TotalMilliseconds:F0} ms more"));
            }

            return SendThroughGateAsync(request, context, cancellationToken);
        }

        return SendLimitedAsync(request, context, cancellationToken);
    }

    /// <summary>Sends, then closes the gate when the answer is a 429 or 503 that names a wait.</summary>
    private async ValueTask<HttpResponseMessage> SendThroughGateAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        var response = await SendLimitedAsync(request, context, cancellationToken).ConfigureAwait(false);
        if (context.TryGetServerWait(response, out var wait))
        {
            wait = TimeMath.Min(wait, context.Options.Retry.MaxRetryAfter);
            context.Client.CloseGate(context.TimeProvider.GetTimestamp() + (long)(wait.TotalSeconds * context.TimeProvider.TimestampFrequency));
        }

        return response;
    }

    private ValueTask<HttpResponseMessage> SendLimitedAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        if (context.Options.RateLimit is not { Enabled: true } options)
        {
            return SendNextAsync(request, context, cancellationToken);
        }

        var limiter = options.GetCustomLimiter() ?? _registry.GetOrAddRateLimit(context.ClientName).GetLimiter(options);
        var lease = limiter.AttemptAcquire();
        return lease.IsAcquired
            ? SendWithLeaseAsync(request, context, lease, cancellationToken)
            : WaitThenSendAsync(request, context, limiter, lease, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // its state machine is reused, not allocated per request
    private async ValueTask<HttpResponseMessage> SendWithLeaseAsync(HttpRequestMessage request, ResilienceContext context, RateLimitLease lease, CancellationToken cancellationToken)
    {
        using (lease)
        {
            return await SendNextAsync(request, context, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<HttpResponseMessage> WaitThenSendAsync(HttpRequestMessage request, ResilienceContext context, RateLimiter limiter, RateLimitLease failed, CancellationToken cancellationToken)
    {
        failed.Dispose();
        var wait = context.Remaining;
        var lease = await BudgetedAcquire.AcquireAsync(limiter, wait, context, cancellationToken).ConfigureAwait(false)
            ?? throw Reject(context, null, wait > TimeSpan.Zero ? $"no token arrived within the {wait.TotalMilliseconds:F0} ms of budget left" : "no budget was left to wait for a token");
        if (!lease.IsAcquired)
        {
            TimeSpan? retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : null;
            lease.Dispose();
            throw Reject(context, retryAfter, "the limiter's queue is full");
        }

        using (lease)
        {
            return await SendNextAsync(request, context, cancellationToken).ConfigureAwait(false);
        }
    }

    private RateLimitRejectedException Reject(ResilienceContext context, TimeSpan? retryAfter, string why)
    {
        _registry.Metrics?.RecordRateLimitRejection(context.ClientName);
        Log.RateLimitRejected(_registry.Logger, context.ClientName, why);
        return new($"The outbound rate limit of HttpClient '{context.ClientName}' rejected the request because {why}. The request was not sent.", retryAfter);
    }
}
