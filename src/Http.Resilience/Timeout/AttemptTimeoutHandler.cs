namespace Http.Resilience;

/// <summary>Bounds each attempt by the smaller of <see cref="HttpResilienceOptions.AttemptTimeout"/> and the budget left.</summary>
/// <remarks>
/// A timed-out attempt is a transient failure (an <see cref="HttpResilienceException"/> with a <see cref="TimeoutException"/>
/// inside) that the retry layer may retry. When the budget is what ran out, it is a <see cref="DeadlineExceededException"/>.
/// A timeout is never reported as the caller's cancellation: that is only ever the caller's own token.
/// </remarks>
internal sealed class AttemptTimeoutHandler : DelegatingHandler
{
    /// <summary>An attempt with less budget than this is not started: it could not get an answer.</summary>
    private static readonly TimeSpan MinimumAttempt = TimeSpan.FromMilliseconds(1);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var context = ResilienceContext.Get(request);
        if (context is null)
        {
            return base.SendAsync(request, cancellationToken);
        }

        var remaining = context.Remaining;
        var timeout = TimeMath.Min(context.Options.AttemptTimeout, remaining);
        if (TimeMath.IsInfinite(timeout))
        {
            return base.SendAsync(request, cancellationToken);
        }

        // Decided once, before sending: when the budget is what bounds this attempt, its timer running out IS the deadline,
        // even if the timer fires a hair before the budget's own timer does.
        var boundByBudget = !TimeMath.IsInfinite(remaining) && remaining <= context.Options.AttemptTimeout;
        return SendWithTimeoutAsync(request, context, timeout, boundByBudget, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendWithTimeoutAsync(HttpRequestMessage request, ResilienceContext context, TimeSpan timeout, bool boundByBudget, CancellationToken cancellationToken)
    {
        if (timeout < MinimumAttempt)
        {
            throw context.CreateDeadlineExceeded(new TimeoutException("No budget was left for another attempt."));
        }

        using var attempt = new CancellationTokenSource(timeout, context.TimeProvider);
        using var link = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), attempt);
        try
        {
            return await base.SendAsync(request, attempt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (attempt.IsCancellationRequested && !context.CallerToken.IsCancellationRequested)
        {
            var timeoutException = new TimeoutException($"Attempt {context.Attempts} timed out after {timeout.TotalMilliseconds:F0} ms.", ex);
            if (boundByBudget || cancellationToken.IsCancellationRequested || context.IsExpired)
            {
                throw context.CreateDeadlineExceeded(timeoutException);
            }

            throw new AttemptTimeoutException(
                $"Attempt {context.Attempts} of HttpClient '{context.ClientName}' timed out after {timeout.TotalMilliseconds:F0} ms.",
                timeoutException);
        }
    }
}
