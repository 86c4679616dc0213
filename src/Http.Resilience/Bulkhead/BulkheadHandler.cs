using System.Threading.RateLimiting;

namespace Http.Resilience;

/// <summary>Caps the requests in flight to one dependency, so a slow one can only hold its own share.</summary>
/// <remarks>
/// Permits come from <see cref="BulkheadState"/>. When no permit is free: with no queue (the default) the request is
/// rejected at once; with a queue (a <see cref="ConcurrencyLimiter"/>) it waits at most <c>min(MaxQueueWait, budget left)</c>. The permit is returned on every path,
/// because it is disposed in a <c>using</c> around the rest of the chain.
/// </remarks>
internal sealed class BulkheadHandler : ResilienceHandler
{
    private readonly ResilienceRegistry _registry;

    public BulkheadHandler(ResilienceRegistry registry)
    {
        _registry = registry;
    }

    internal override ValueTask<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        if (context.Options.Bulkhead is not { Enabled: true } options)
        {
            return SendNextAsync(request, context, cancellationToken);
        }

        var bulkhead = _registry.GetOrAddBulkhead(context.Client, options.PerAuthority ? Authority.Of(request) : null, options);
        var generation = bulkhead.GetGeneration(options);
        if (generation.TryAcquire(out var permit))
        {
            return SendWithPermitAsync(request, context, generation, permit, cancellationToken);
        }

        if (generation.Limiter is not { } queue)
        {
            throw Reject(bulkhead, options, "it is full");
        }

        return QueueThenSendAsync(request, context, bulkhead, generation, queue, options, cancellationToken);
    }

    private async ValueTask<HttpResponseMessage> SendWithPermitAsync(
        HttpRequestMessage request, ResilienceContext context, BulkheadState.Generation generation, BulkheadState.Permit permit, CancellationToken cancellationToken)
    {
        try
        {
            return await SendNextAsync(request, context, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            generation.Release(permit);
        }
    }

    private async ValueTask<HttpResponseMessage> QueueThenSendAsync(
        HttpRequestMessage request, ResilienceContext context, BulkheadState bulkhead, BulkheadState.Generation generation, ConcurrencyLimiter queue,
        BulkheadOptions options, CancellationToken cancellationToken)
    {
        var wait = TimeMath.Min(options.MaxQueueWait, context.Remaining);
        var lease = await BudgetedAcquire.AcquireAsync(queue, wait, context, cancellationToken).ConfigureAwait(false)
            ?? throw Reject(bulkhead, options, wait > TimeSpan.Zero ? $"no permit was freed within {wait.TotalMilliseconds:F0} ms" : "no budget was left to wait for a permit");
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            throw Reject(bulkhead, options, "it and its queue are full");
        }

        return await SendWithPermitAsync(request, context, generation, new BulkheadState.Permit(lease), cancellationToken).ConfigureAwait(false);
    }

    private BulkheadRejectedException Reject(BulkheadState bulkhead, BulkheadOptions options, string why)
    {
        bulkhead.RecordRejection();
        var snapshot = bulkhead.GetSnapshot();
        _registry.Metrics?.RecordBulkheadRejection(bulkhead.ClientName, bulkhead.Authority);
        Log.BulkheadRejected(_registry.Logger, bulkhead.ClientName, Log.FormatAuthority(bulkhead.Authority), options.MaxConcurrency, snapshot.Active, snapshot.Queued);
        var name = bulkhead.Authority is null ? $"'{bulkhead.ClientName}'" : $"'{bulkhead.ClientName}' ({bulkhead.Authority})";
        return new BulkheadRejectedException(
            $"The bulkhead of HttpClient {name} rejected the request because {why}: {snapshot.Active} of {options.MaxConcurrency} in flight, " +
            $"{snapshot.Queued} of {options.MaxQueue} queued. The request was not sent.");
    }
}
