using System.Runtime.CompilerServices;

namespace Http.Resilience;

/// <summary>Bounds each attempt by the smaller of its attempt timeout (the request's own, else the option) and the budget left.</summary>
/// <remarks>
/// A timed-out attempt is a transient failure (an <see cref="HttpResilienceException"/> with a <see cref="TimeoutException"/>
/// inside) that the retry layer may retry. When the budget is what ran out, it is a <see cref="DeadlineExceededException"/>.
/// A timeout is never reported as the caller's cancellation: that is only ever the caller's own token. This is the
/// innermost layer of ours, so it also measures every attempt (<c>http.resilience.attempt.duration</c>). With
/// <see cref="ResponseBufferingOptions"/> on, the attempt also reads the response body (see <see cref="ResponseBody"/>)
/// before it counts as answered, under the same timer.
/// The attempt's timer starts, and the caller's token is linked to it, only once the attempt turns out to wait: an
/// attempt that completes synchronously (a cached or in-memory answer) never needed either. So a handler below that
/// blocks before it returns its task is not bounded while it blocks (as blocking code ignores tokens anyway).
/// </remarks>
internal sealed class AttemptTimeoutHandler : ResilienceHandler
{
    /// <summary>An attempt with less budget than this is not started: it could not get an answer.</summary>
    private static readonly TimeSpan MinimumAttempt = TimeSpan.FromMilliseconds(1);

    private readonly ResilienceRegistry _registry;

    public AttemptTimeoutHandler(ResilienceRegistry registry)
    {
        _registry = registry;
    }

    internal override ValueTask<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        var started = context.TimeProvider.GetTimestamp();
        var remaining = context.RemainingAt(started);
        var timeout = TimeMath.Min(context.AttemptTimeout, remaining);
        if (context.Options.DeadlinePropagation is { Enabled: true } propagation && !Propagate(request, propagation, timeout))
        {
            // Less time left than the safety margin: the dependency would only answer 504. Send nothing.
            throw context.CreateDeadlineExceeded(new TimeoutException("Too little budget was left to send the attempt with its deadline."));
        }
        if (context.Options.RetryPropagation is { Enabled: true } retryPropagation)
        {
            // The attempt's number (1 for the first), so the dependency can tell a retry from a first try.
            request.Headers.Remove(retryPropagation.AttemptHeaderName);
            request.Headers.TryAddWithoutValidation(retryPropagation.AttemptHeaderName, context.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (context.Activity is { } activity)
        {
            ResilienceActivity.NoteAttempt(activity, context.Attempts); // for this attempt's span: its resend count
        }

        if (TimeMath.IsInfinite(timeout) && _registry.Metrics?.AttemptDurationEnabled != true && context.ResponseBuffering is null)
        {
            return SendNextAsync(request, context, cancellationToken);
        }

        // Decided once, before sending: when the budget is what bounds this attempt, its timer running out IS the deadline
        // (the budget has no timer of its own).
        var boundByBudget = !TimeMath.IsInfinite(remaining) && remaining <= context.AttemptTimeout;
        return SendWithTimeoutAsync(request, context, timeout, boundByBudget, started, context.Attempts, cancellationToken);
    }

    /// <param name="request">The request.</param>
    /// <param name="context">The logical request's context.</param>
    /// <param name="timeout">This attempt's timeout: the attempt timeout or the budget left, whichever is shorter.</param>
    /// <param name="boundByBudget">Whether the budget left is what bounds this attempt.</param>
    /// <param name="started">When the attempt started (a timestamp).</param>
    /// <param name="attemptNumber">This attempt's number, read when it started: hedged copies are in flight with others.</param>
    /// <param name="cancellationToken">The token of the layer above.</param>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // its state machine is reused, not allocated per request
    private async ValueTask<HttpResponseMessage> SendWithTimeoutAsync(
        HttpRequestMessage request, ResilienceContext context, TimeSpan timeout, bool boundByBudget, long started, int attemptNumber, CancellationToken cancellationToken)
    {
        if (!TimeMath.IsInfinite(timeout) && timeout < MinimumAttempt)
        {
            throw context.CreateDeadlineExceeded(new TimeoutException("No budget was left for another attempt."));
        }

        cancellationToken.ThrowIfCancellationRequested(); // the link to the caller's token comes later (see Arm)
        using var attempt = LinkedTimeout.Prepare(timeout, context.TimeProvider, cancellationToken);
        try
        {
            var pending = SendNextAsync(request, context, attempt.Token);
            var armed = !pending.IsCompleted;
            if (armed)
            {
                attempt.Arm(context.TimeProvider.GetElapsedTime(started)); // the attempt waits: now its timer and the caller's token count
            }

            var response = await pending.ConfigureAwait(false);
            if (context.ResponseBuffering is { } buffering && ResponseBody.MayHaveBody(response))
            {
                if (!armed)
                {
                    attempt.Arm(context.TimeProvider.GetElapsedTime(started));
                }

                try
                {
                    await ResponseBody.BufferAsync(response, buffering.MaxBytes, attempt.Token).ConfigureAwait(false);
                }
                catch
                {
                    response.Dispose(); // a stalled or broken body: the attempt failed, and its connection is released
                    throw;
                }
            }

            if (_registry.Metrics is { AttemptDurationEnabled: true } metrics) // no clock read for an instrument nobody listens to
            {
                metrics.RecordAttempt(context.ClientName, context.TimeProvider.GetElapsedTime(started), OutcomeClassifier.Classify(response).AttemptMetricName, (int)response.StatusCode);
            }

            return response;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !context.CallerCancelled && context.Hedging is not null)
        {
            // A hedged copy that lost: the hedging layer cancelled it because another copy answered. Not a timeout.
            _registry.Metrics?.RecordAttempt(context.ClientName, context.TimeProvider.GetElapsedTime(started), "cancelled", null);
            throw;
        }
        catch (OperationCanceledException ex) when (attempt.Fired && !context.CallerCancelled)
        {
            var elapsed = context.TimeProvider.GetElapsedTime(started);
            _registry.Metrics?.RecordAttempt(context.ClientName, elapsed, "timeout", null);
            _registry.Metrics?.RecordTimeout(context.ClientName);
            Log.AttemptTimedOut(_registry.Logger, context.ClientName, attemptNumber, context.MaxAttempts, elapsed.TotalMilliseconds);
            if (context.Activity is not null)
            {
                context.AddEvent("attempt_timed_out", ResilienceActivity.Tag("http.resilience.attempt", attemptNumber), ResilienceActivity.Tag("http.resilience.elapsed_ms", elapsed.TotalMilliseconds));
            }

            var timeoutException = new TimeoutException($"Attempt {attemptNumber} timed out after {timeout.TotalMilliseconds:F0} ms.", ex);
            if (boundByBudget || cancellationToken.IsCancellationRequested || context.IsExpired)
            {
                throw context.CreateDeadlineExceeded(timeoutException);
            }

            throw new AttemptTimeoutException(
                $"Attempt {attemptNumber} of HttpClient '{context.ClientName}' timed out after {timeout.TotalMilliseconds:F0} ms.",
                timeoutException);
        }
        catch (Exception ex)
        {
            if (_registry.Metrics is { } metrics)
            {
                var outcome = OutcomeClassifier.Classify(ex, context);
                metrics.RecordAttempt(context.ClientName, context.TimeProvider.GetElapsedTime(started), outcome.AttemptMetricName, outcome.StatusCode == 0 ? null : outcome.StatusCode);
            }

            throw;
        }
    }

    /// <summary>Tells the dependency how long this attempt will be waited for, less the safety margin.</summary>
    /// <returns><see langword="false"/> when that leaves less than a millisecond: the attempt must not be sent.</returns>
    private static bool Propagate(HttpRequestMessage request, DeadlinePropagationOptions options, TimeSpan timeout)
    {
        request.Headers.Remove(options.HeaderName);
        if (TimeMath.IsInfinite(timeout))
        {
            return true;
        }

        if (!DeadlinePropagationOptions.LeavesTime(timeout, options.SafetyMargin))
        {
            return false;
        }

        var milliseconds = (long)(timeout - options.SafetyMargin).TotalMilliseconds;

        request.Headers.TryAddWithoutValidation(options.HeaderName, milliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return true;
    }
}
