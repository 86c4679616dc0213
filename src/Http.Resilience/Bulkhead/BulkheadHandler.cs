using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;

namespace Http.Resilience;

/// <summary>Caps the requests in flight to one dependency, so a slow one can only hold its own share.</summary>
/// <remarks>
/// <para>
/// Permits come from <see cref="BulkheadState"/>. When no permit is free: with no queue (the default) the request is
/// rejected at once; with a queue (a <see cref="ConcurrencyLimiter"/>) it waits at most <c>min(MaxQueueWait, budget left)</c>.
/// The permit is returned on every path: at once when the rest of the chain completed synchronously (or threw), otherwise
/// in a <c>finally</c> once it completes.
/// </para>
/// <para>
/// For a while after the circuit closes, the cap ramps up from a tenth of the limit (see <see cref="RecoveryRamp"/>): the
/// ramp is asked here, before a permit is taken, so a request waiting for room in the ramp holds no permit and the ramp
/// never turns into bulkhead rejections.
/// </para>
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

        return options.GetCustomLimiter() is { } shared
            ? SendWithSharedPermitAsync(request, context, options, shared, cancellationToken)
            : SendLocally(request, context, options, cancellationToken);
    }

    /// <summary>
    /// Takes a permit of the shared limit set with <see cref="BulkheadOptions.UseLimiter"/> first (waiting at most the
    /// smaller of <see cref="BulkheadOptions.MaxQueueWait"/> and the budget left), then goes through the local bulkhead,
    /// and gives the shared permit back when the request ends, however it ends.
    /// </summary>
    private async ValueTask<HttpResponseMessage> SendWithSharedPermitAsync(
        HttpRequestMessage request, ResilienceContext context, BulkheadOptions options, RateLimiter shared, CancellationToken cancellationToken)
    {
        var lease = LimiterLeases.TryAttempt(shared, out var failure) ?? throw SharedRejected(request, context, options, shared, $"failed: {failure!.Message}", failure);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            var wait = TimeMath.Min(options.MaxQueueWait, context.Remaining);
            RateLimitLease? waited;
            try
            {
                waited = await BudgetedAcquire.AcquireAsync(shared, wait, context, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!context.CallerCancelled)
            {
                throw SharedRejected(request, context, options, shared, $"failed: {ex.Message}", ex);
            }

            lease = waited ?? throw SharedRejected(
                request, context, options, shared, wait > TimeSpan.Zero ? $"had no permit free within {wait.TotalMilliseconds:F0} ms" : "had no permit free, and no budget was left to wait for one", null);
            if (!lease.IsAcquired)
            {
                var named = LimiterLeases.RetryAfterOf(lease);
                lease.Dispose();
                throw SharedRejected(request, context, options, shared, named is { } after ? $"refused a permit and named a wait of {after.TotalMilliseconds:F0} ms" : "refused a permit", null);
            }
        }

        try
        {
            return await SendLocally(request, context, options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (lease is IAsyncDisposable releasing)
            {
                await releasing.DisposeAsync().ConfigureAwait(false); // a shared permit given back over the network: awaited, not dropped
            }
            else
            {
                lease.Dispose();
            }
        }
    }

    private BulkheadRejectedException SharedRejected(HttpRequestMessage request, ResilienceContext context, BulkheadOptions options, RateLimiter shared, string what, Exception? inner)
    {
        var authority = options.PerAuthority ? context.AuthorityOf(request) : null;
        _registry.Metrics?.RecordBulkheadRejection(context.ClientName, authority);
        Log.SharedLimitRejected(_registry.Logger, context.ClientName, Log.FormatAuthority(authority), shared.GetType().Name, what);
        if (context.Activity is not null)
        {
            context.AddEvent("bulkhead_rejected", ResilienceActivity.Tag("http.resilience.reason", $"the shared limit {what}"));
        }
        return new BulkheadRejectedException(
            $"The shared concurrency limit of HttpClient '{context.ClientName}' ({shared.GetType().Name}, in front of its bulkhead) {what}. The request was not sent.",
            inner);
    }

    /// <summary>The local bulkhead, behind the ramp after a close.</summary>
    private ValueTask<HttpResponseMessage> SendLocally(HttpRequestMessage request, ResilienceContext context, BulkheadOptions options, CancellationToken cancellationToken)
    {
        if (context.Options.CircuitBreaker is { Enabled: true } circuitOptions && circuitOptions.RampUp > TimeSpan.Zero &&
            RampOf(request, context, circuitOptions) is { IsActive: true } ramp)
        {
            if (!ramp.TryEnter(circuitOptions.RampUp, options.MaxConcurrency, out var counted))
            {
                return WaitForRampThenSendAsync(request, context, ramp, circuitOptions, options, cancellationToken);
            }

            if (counted)
            {
                return SendThenLeaveRampAsync(request, context, ramp, options, cancellationToken);
            }
        }

        return SendBulkheaded(request, context, options, cancellationToken);
    }

    /// <summary>The ramp of the circuit this request will go through, once the circuit has closed after a probe.</summary>
    private RecoveryRamp? RampOf(HttpRequestMessage request, ResilienceContext context, CircuitBreakerOptions circuitOptions)
        => circuitOptions.PerAuthority
            ? _registry.GetOrAddCircuit(context.Client, context.AuthorityOf(request), circuitOptions.MaxAuthorities).Ramp
            : context.Client.Circuit?.Ramp;

    /// <summary>
    /// Waits, within the budget left, for the ramp after a close to have room, then sends. A request the ramp has no room
    /// for before its budget runs out is rejected, as a full bulkhead's queue would reject it; so is one that finds as many
    /// requests in flight and waiting as the bulkhead holds (it would have rejected that one at once).
    /// </summary>
    private async ValueTask<HttpResponseMessage> WaitForRampThenSendAsync(
        HttpRequestMessage request, ResilienceContext context, RecoveryRamp ramp, CircuitBreakerOptions circuitOptions, BulkheadOptions options, CancellationToken cancellationToken)
    {
        var wait = context.Remaining;
        var entry = await ramp.EnterAsync(wait, options.MaxConcurrency + options.MaxQueue, cancellationToken).ConfigureAwait(false);
        switch (entry)
        {
            case RampEntry.Admitted:
                return await SendThenLeaveRampAsync(request, context, ramp, options, cancellationToken).ConfigureAwait(false);
            case RampEntry.Over:
                return await SendBulkheaded(request, context, options, cancellationToken).ConfigureAwait(false);
            default:
                _registry.Metrics?.RecordBulkheadRejection(context.ClientName, options.PerAuthority ? context.AuthorityOf(request) : null);
                var authority = circuitOptions.PerAuthority ? $" ({context.AuthorityOf(request)})" : string.Empty;
                var why = entry == RampEntry.Full
                    ? $"as many requests as the bulkhead holds ({options.MaxConcurrency + options.MaxQueue}) are already in flight or waiting"
                    : $"it had no room for this request within the {wait.TotalMilliseconds:F0} ms of budget left";
                throw new BulkheadRejectedException(
                    $"The circuit of HttpClient '{context.ClientName}'{authority} closed recently and ramps its requests in flight back up to {options.MaxConcurrency}; " +
                    $"{why}. The request was not sent.");
        }
    }

    private async ValueTask<HttpResponseMessage> SendThenLeaveRampAsync(
        HttpRequestMessage request, ResilienceContext context, RecoveryRamp ramp, BulkheadOptions options, CancellationToken cancellationToken)
    {
        try
        {
            return await SendBulkheaded(request, context, options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ramp.Exit();
        }
    }

    private ValueTask<HttpResponseMessage> SendBulkheaded(HttpRequestMessage request, ResilienceContext context, BulkheadOptions options, CancellationToken cancellationToken)
    {
        var authority = options.PerAuthority ? context.AuthorityOf(request) : null;
        BulkheadState bulkhead;
        BulkheadState.Generation generation;
        while (true)
        {
            bulkhead = _registry.GetOrAddBulkhead(context.Client, authority, options);
            if (!bulkhead.TryAcquire(options, out generation, out var permit))
            {
                break;
            }

            if (!bulkhead.IsRetired)
            {
                return SendWithPermit(request, context, generation, permit, cancellationToken);
            }

            // The per-authority map forgot this bulkhead as the permit was taken: the next lookup finds its replacement.
            generation.Release(permit);
        }

        if (generation.Limiter is not { } queue)
        {
            // Not thrown here: the rejection reaches the caller through the returned task, which spares it one of the
            // exception dispatches that make up most of a rejection's cost.
            return ValueTask.FromException<HttpResponseMessage>(Reject(context, bulkhead, options, "it is full"));
        }

        return QueueThenSendAsync(request, context, bulkhead, generation, queue, options, cancellationToken);
    }

    /// <summary>
    /// Sends with the permit held and gives it back once the rest of the chain is done: at once when that completed
    /// synchronously (no state machine, and a failure is passed on, not rethrown), when it completes otherwise.
    /// </summary>
    private ValueTask<HttpResponseMessage> SendWithPermit(
        HttpRequestMessage request, ResilienceContext context, BulkheadState.Generation generation, BulkheadState.Permit permit, CancellationToken cancellationToken)
    {
        ValueTask<HttpResponseMessage> pending;
        try
        {
            pending = SendNextAsync(request, context, cancellationToken);
        }
        catch
        {
            generation.Release(permit);
            throw;
        }

        if (!pending.IsCompleted)
        {
            return ReleaseWhenDoneAsync(pending, generation, permit);
        }

        generation.Release(permit);
        return pending;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // its state machine is reused, not allocated per request
    private static async ValueTask<HttpResponseMessage> ReleaseWhenDoneAsync(ValueTask<HttpResponseMessage> pending, BulkheadState.Generation generation, BulkheadState.Permit permit)
    {
        try
        {
            return await pending.ConfigureAwait(false);
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
        context.AddEvent("bulkhead_queued");
        while (true)
        {
            var wait = TimeMath.Min(options.MaxQueueWait, context.Remaining);
            var lease = await BudgetedAcquire.AcquireAsync(queue, wait, context, cancellationToken).ConfigureAwait(false)
                ?? throw Reject(context, bulkhead, options, wait > TimeSpan.Zero ? $"no permit was freed within {wait.TotalMilliseconds:F0} ms" : "no budget was left to wait for a permit");
            if (!lease.IsAcquired)
            {
                lease.Dispose();
                throw Reject(context, bulkhead, options, "it and its queue are full");
            }

            var permit = new BulkheadState.Permit(lease);
            if (bulkhead.IsRetired)
            {
                // The per-authority map forgot this bulkhead while the request queued: start again with its replacement.
                generation.Release(permit);
                return await SendBulkheaded(request, context, options, cancellationToken).ConfigureAwait(false);
            }

            if (!generation.IsReplaced)
            {
                return await SendWithPermit(request, context, generation, permit, cancellationToken).ConfigureAwait(false);
            }

            // A reload replaced the limits while this request waited: its permit is one of the old limits, which only drain
            // now. It gives that back and asks the new limits instead.
            generation.Release(permit);
            if (bulkhead.TryAcquireFrom(bulkhead.Current, out generation, out permit))
            {
                return await SendWithPermit(request, context, generation, permit, cancellationToken).ConfigureAwait(false);
            }

            queue = generation.Limiter ?? throw Reject(context, bulkhead, options, "it is full");
        }
    }

    private BulkheadRejectedException Reject(ResilienceContext context, BulkheadState bulkhead, BulkheadOptions options, string why)
    {
        context.AddEvent("bulkhead_rejected", ResilienceActivity.Tag("http.resilience.reason", why));
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
