namespace Http.Resilience;

/// <summary>Bounds each attempt by the smaller of <see cref="HttpResilienceOptions.AttemptTimeout"/> and the budget left.</summary>
/// <remarks>
/// A timed-out attempt is a transient failure (an <see cref="HttpResilienceException"/> with a <see cref="TimeoutException"/>
/// inside) that the retry layer may retry. When the budget is what ran out, it is a <see cref="DeadlineExceededException"/>.
/// A timeout is never reported as the caller's cancellation: that is only ever the caller's own token.
/// </remarks>
internal sealed class AttemptTimeoutHandler : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var context = ResilienceContext.Get(request);
        if (context is null)
        {
            return base.SendAsync(request, cancellationToken);
        }

        var timeout = TimeMath.Min(context.Options.AttemptTimeout, context.Remaining);
        return TimeMath.IsInfinite(timeout)
            ? base.SendAsync(request, cancellationToken)
            : SendWithTimeoutAsync(request, context, timeout, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendWithTimeoutAsync(HttpRequestMessage request, ResilienceContext context, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (timeout <= TimeSpan.Zero)
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
            if (cancellationToken.IsCancellationRequested || context.IsExpired)
            {
                throw context.CreateDeadlineExceeded(timeoutException);
            }

            throw new AttemptTimeoutException(
                $"Attempt {context.Attempts} of HttpClient '{context.ClientName}' timed out after {timeout.TotalMilliseconds:F0} ms.",
                timeoutException);
        }
    }
}
