using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Http.Resilience;

/// <summary>
/// Re-sends transient and throttled failures with exponential backoff and full jitter, within the request's budget.
/// </summary>
/// <remarks>
/// <para>
/// Only requests that may be sent twice are retried: idempotent methods, and others (POST, PATCH) only with an
/// idempotency key. A body that cannot be replayed means one attempt only.
/// </para>
/// <para>
/// Before each retry the delay (Retry-After on 429/503 when valid, else the jittered backoff) is checked against the budget
/// left: a delay that does not fit ends the retries at once and the last outcome is returned: the response as it came,
/// or the last attempt's exception rethrown. Discarded responses are disposed so their connections return to the pool.
/// If the circuit opens while the request is between attempts, the retries stop and the last outcome is returned.
/// </para>
/// </remarks>
internal sealed class RetryHandler : ResilienceHandler
{
    private readonly ResilienceRegistry _registry;

    public RetryHandler(ResilienceRegistry registry)
    {
        _registry = registry;
    }

    internal override ValueTask<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        if (context.Options.Retry.Budget is { Enabled: true } budget && (context.Options.Retry.Enabled || context.Options.Hedging.Enabled))
        {
            // Every logical request earns its share of a retry; retries and hedged copies draw on the same budget.
            context.GetRetryBudget(budget).Deposit(context.StartTimestamp);
        }

        if (context.MaxRetries == 0 || !context.MaySendTwice(request))
        {
            return SendOnceAsync(request, context, cancellationToken);
        }

        return RequestContentReplay.IsReplayable(request.Content)
            ? SendWithRetriesAsync(request, context, cancellationToken)
            : BufferThenSendAsync(request, context, cancellationToken);
    }

    private ValueTask<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        context.Attempts++;
        return SendNextAsync(request, context, cancellationToken);
    }

    /// <summary>A body that is not replayable as it is gets buffered (within the limit and the budget), or is sent once.</summary>
    private async ValueTask<HttpResponseMessage> BufferThenSendAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        var replayable = await RequestContentReplay.TryMakeReplayableAsync(request, context, cancellationToken).ConfigureAwait(false);
        if (replayable)
        {
            return await SendWithRetriesAsync(request, context, cancellationToken).ConfigureAwait(false);
        }

        if (context.Client.TryClaimUnreplayableBodyLog())
        {
            Log.RequestBodyNotReplayable(_registry.Logger, context.ClientName, request.Method.Method); // once: why it was never retried
        }

        return await SendOnceAsync(request, context, cancellationToken).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // its state machine is reused, not allocated per request
    private async ValueTask<HttpResponseMessage> SendWithRetriesAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        var options = context.Options.Retry;

        for (var retry = 0; ; retry++)
        {
            HttpResponseMessage? response = null;
            ExceptionDispatchInfo? failure = null;
            context.Attempts++;
            try
            {
                response = await SendNextAsync(request, context, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (OutcomeClassifier.Classify(ex, context).IsRetryable)
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }

            if (context.CallerCancelled)
            {
                // The caller left: its cancellation is the outcome, not the response or failure that raced with it.
                return ReturnOrThrow(response, failure, context);
            }

            var outcome = response is null ? OutcomeClassifier.Classify(failure!.SourceException, context) : OutcomeClassifier.ClassifyForRetry(response, request, context.Options);
            if (retry > 0)
            {
                _registry.Metrics?.RecordRetry(context.ClientName, retry + 1, outcome.RetryResultName);
            }

            if (!outcome.IsRetryable)
            {
                if (outcome.RetryRefused)
                {
                    DownstreamGiveUp.Note(); // a layer below already gave up: the request being served must not be retried either
                }

                return response!; // only a response can be final here: a failure that is not retryable is never caught
            }

            if (retry >= context.MaxRetries)
            {
                DownstreamGiveUp.Note(); // retried to exhaustion: the layers above must not retry the same failure again
                return ReturnOrThrow(response, failure, context);
            }

            TimeSpan delay;
            if (response is not null && context.TryGetServerWait(response, out var retryAfter))
            {
                // The server asked for a wait. One we will not make (too long, or past the budget) ends the retries:
                // retrying sooner would be rude and futile.
                if (retryAfter > options.MaxRetryAfter)
                {
                    NotRetried(context, retry, "the server's Retry-After is longer than Retry.MaxRetryAfter");
                    return response;
                }

                // While the server keeps turning this client away, a request sleeping through its wait would hold a permit
                // a new request could use, and its retry would take a place in the quota a new request would take.
                if (response.StatusCode == HttpStatusCode.TooManyRequests && context.Options.Pushback.KeepWithinQuota &&
                    context.Client.GetPushback(context.TimeProvider.TimestampFrequency).SheddingProbability(context.TimeProvider.GetTimestamp()) > 0)
                {
                    NotRetried(context, retry, "the server keeps this client within its quota");
                    return response;
                }

                delay = context.Options.Pushback.Gate
                    ? retryAfter + TimeSpan.FromTicks((long)(Math.Min(retryAfter.Ticks / 5, TimeSpan.TicksPerSecond) * _registry.Jitter())) // not all at once when the gate opens
                    : retryAfter;
            }
            else
            {
                delay = RetryBackoff.Compute(retry, options.BaseDelay, options.MaxDelay, _registry.Jitter());
            }

            if (!context.HasTimeFor(delay))
            {
                NotRetried(context, retry, "the delay does not fit in the budget left");
                // The budget is what ended the retries. A timed-out attempt then reports the deadline, not an attempt
                // timeout; a response or a network failure is returned or rethrown as it came.
                if (response is null && failure!.SourceException is AttemptTimeoutException timedOut)
                {
                    throw context.CreateDeadlineExceeded(timedOut.InnerException);
                }

                return ReturnOrThrow(response, failure, context);
            }

            if (context.CircuitOpenedMeanwhile)
            {
                NotRetried(context, retry, "the circuit opened");
                return ReturnOrThrow(response, failure, context);
            }

            if (options.Budget is { Enabled: true } budget && !context.GetRetryBudget(budget).TryWithdraw(context.TimeProvider.GetTimestamp()))
            {
                // The client already retries as much as its budget allows: another retry would only add load to a
                // dependency that is failing for many requests at once. Return what we have, as if retries had run out.
                DownstreamGiveUp.Note();
                _registry.Metrics?.RecordRetryBudgetExhausted(context.ClientName);
                Log.RetryBudgetExhausted(_registry.Logger, context.ClientName, retry + 1);
                NotRetried(context, retry, "the retry budget is empty");
                return ReturnOrThrow(response, failure, context);
            }

            if (context.Activity is not null)
            {
                var reason = response is null ? failure!.SourceException.GetType().Name : ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                context.AddEvent(
                    "retry_scheduled",
                    ResilienceActivity.Tag("http.resilience.attempt", retry + 1),
                    ResilienceActivity.Tag("http.resilience.delay_ms", delay.TotalMilliseconds),
                    ResilienceActivity.Tag("http.resilience.reason", reason));
            }

            if (_registry.Logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug))
            {
                var what = response is null ? failure!.SourceException.GetType().Name : ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                var left = context.Remaining;
                Log.RetryScheduled(_registry.Logger, context.ClientName, retry + 1, what, delay.TotalMilliseconds, TimeMath.IsInfinite(left) ? double.PositiveInfinity : left.TotalMilliseconds);
            }

            // With a circuit, keep the last response through the backoff: if the circuit opens meanwhile, it is the
            // outcome we return. Without one, release its connection now.
            var keepDuringBackoff = context.Circuit is not null;
            if (!keepDuringBackoff)
            {
                response?.Dispose();
            }

            if (delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(delay, context.TimeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch when (keepDuringBackoff)
                {
                    response?.Dispose();
                    throw;
                }
            }

            if (keepDuringBackoff)
            {
                if (context.CircuitOpenedMeanwhile)
                {
                    return ReturnOrThrow(response, failure, context);
                }

                response?.Dispose();
            }
        }
    }

    /// <summary>Tells the request's span why a retryable outcome was not retried.</summary>
    private static void NotRetried(ResilienceContext context, int retry, string why)
    {
        if (context.Activity is not null)
        {
            context.AddEvent("retry_not_sent", ResilienceActivity.Tag("http.resilience.attempt", retry + 1), ResilienceActivity.Tag("http.resilience.reason", why));
        }
    }

    /// <summary>
    /// Ends the retries with the last outcome: the response as it came, or the last attempt's failure rethrown. If the
    /// caller cancelled meanwhile, that cancellation is the outcome instead, and the response in hand is disposed.
    /// </summary>
    private static HttpResponseMessage ReturnOrThrow(HttpResponseMessage? response, ExceptionDispatchInfo? failure, ResilienceContext context)
    {
        if (context.CallerCancelled)
        {
            response?.Dispose();
            context.CallerToken.ThrowIfCancellationRequested();
        }

        if (response is null)
        {
            failure!.Throw();
        }

        return response;
    }
}
