using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace Http.Resilience;

/// <summary>
/// The outermost layer: takes one options snapshot and starts the request's budget.
/// </summary>
/// <remarks>
/// The budget is a deadline, not a timer: every inner layer that waits (a limiter's queue, a retry's backoff, an attempt)
/// bounds its own wait by the budget left (<see cref="ResilienceContext.Remaining"/>), so no layer can outlast it and the
/// happy path arms no timer of its own here. Inner layers receive the caller's token. The caller's token always wins:
/// when it fired, its <see cref="OperationCanceledException"/> passes through untouched; when only the budget ran out,
/// the request fails with <see cref="DeadlineExceededException"/>.
/// </remarks>
internal sealed class DeadlineHandler : ResilienceHandler
{
    private readonly IOptionsMonitor<HttpResilienceOptions> _optionsMonitor;
    private readonly ClientResilienceState _state;
    private readonly TimeProvider _timeProvider;
    private readonly ResilienceRegistry _registry;

    public DeadlineHandler(string clientName, IOptionsMonitor<HttpResilienceOptions> optionsMonitor, ResilienceRegistry registry)
    {
        _optionsMonitor = optionsMonitor;
        _registry = registry;
        _state = registry.GetOrAdd(clientName);
        _timeProvider = registry.TimeProvider;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);

        // Validation happens here (and on CreateClient), never in a constructor: IHttpClientFactory caches
        // handler-construction failures, and a corrected configuration must recover on reload.
        var options = _registry.GetOptions(_state, _optionsMonitor);
        var overrides = RequestOverrides.Find(request);
        var deadline = EffectiveDeadline(options, overrides);
        if (ResilienceActivity.Source.HasListeners())
        {
            return SendTracedAsync(request, options, overrides, deadline, cancellationToken);
        }

        ResilienceActivity.StopResendListenerIfIdle();
        return Send(request, options, overrides, deadline, activity: null, cancellationToken);
    }

    /// <summary>
    /// The request inside its span. An async method of its own: the span is the current activity for everything the chain
    /// does below (so each attempt's HttpClient span is its child), and stops being current for the caller once it returns.
    /// </summary>
    private async Task<HttpResponseMessage> SendTracedAsync(
        HttpRequestMessage request, HttpResilienceOptions options, RequestOverrides? overrides, TimeSpan deadline, CancellationToken cancellationToken)
    {
        using var activity = ResilienceActivity.Start(request, _state.Name, deadline);
        if (activity is null)
        {
            return await Send(request, options, overrides, deadline, activity: null, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var response = await Send(request, options, overrides, deadline, activity, cancellationToken).ConfigureAwait(false);
            ResilienceActivity.Stop(activity, response);
            return response;
        }
        catch (Exception ex)
        {
            ResilienceActivity.Stop(activity, ex, cancellationToken.IsCancellationRequested);
            throw;
        }
    }

    /// <summary>
    /// The budget of a request: its own deadline or else the option, a user-set <see cref="HttpClient.Timeout"/> and an
    /// inherited deadline, whichever is shortest.
    /// </summary>
    /// <exception cref="ArgumentException">The request asks for a setting its client cannot give it.</exception>
    private TimeSpan EffectiveDeadline(HttpResilienceOptions options, RequestOverrides? overrides)
    {
        var deadline = options.Deadline;
        if (overrides is not null)
        {
            overrides.CheckFor(_state.Name, options);
            deadline = overrides.Deadline ?? deadline;
        }

        deadline = TimeMath.Min(deadline, _state.HttpClientTimeout);
        return InheritedDeadline.TimeLeft is { } inherited ? TimeMath.Min(deadline, inherited) : deadline;
    }

    private Task<HttpResponseMessage> Send(
        HttpRequestMessage request, HttpResilienceOptions options, RequestOverrides? overrides, TimeSpan deadline, Activity? activity, CancellationToken cancellationToken)
    {
        var clientName = _state.Name;
        if (deadline == TimeSpan.Zero)
        {
            // The request being served has no time left: send nothing.
            activity?.AddEvent(new ActivityEvent("deadline_exceeded"));
            ObserveDeadline(clientName, TimeSpan.Zero, attempts: 0);
            throw new DeadlineExceededException($"The request of HttpClient '{clientName}' was not sent: the deadline it inherited was already spent.", TimeSpan.Zero, null);
        }

        var context = ResilienceContext.Rent(_state, options, _timeProvider, deadline, cancellationToken, overrides);
        context.Activity = activity;
        ValueTask<HttpResponseMessage> pending;
        try
        {
            pending = SendNextAsync(request, context, cancellationToken);
        }
        catch (Exception ex)
        {
            pending = ValueTask.FromException<HttpResponseMessage>(ex);
        }

        if (!pending.IsCompleted)
        {
            return FinishAsync(pending, context, cancellationToken);
        }

        Task<HttpResponseMessage> completed;
        if (cancellationToken.IsCancellationRequested)
        {
            // The caller's cancellation wins over whatever the chain produced meanwhile.
            return FinishAsync(pending, context, cancellationToken);
        }

        if (pending.IsCompletedSuccessfully)
        {
            // Completed at once: hand out the innermost handler's own task when it holds this very response, not a new one.
            var response = pending.Result;
            completed = context.InnermostTask is { IsCompletedSuccessfully: true } innermost && ReferenceEquals(innermost.Result, response)
                ? innermost
                : Task.FromResult(response);
        }
        else
        {
            // A failure that is already there and needs no translating (a rejection, say) is passed on as it is, not
            // rethrown: under load, every exception dispatch saved is CPU the service keeps.
            completed = pending.AsTask();
            if (!completed.IsFaulted || completed.Exception!.InnerException is OperationCanceledException or DeadlineExceededException)
            {
                return FinishAsync(new ValueTask<HttpResponseMessage>(completed), context, cancellationToken);
            }
        }

        context.Return();
        return completed;
    }

    /// <remarks>
    /// Not used in a chain that <c>AddHttpResilience</c> builds: this layer is outermost, entered through
    /// <see cref="SendAsync"/>, which makes the context. Reached with a context already made, it passes the request on.
    /// </remarks>
    internal override ValueTask<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
        => SendNextAsync(request, context, cancellationToken);

    /// <summary>Waits for the rest of the chain, says why it failed when the failure is the budget's, and gives the context back.</summary>
    private async Task<HttpResponseMessage> FinishAsync(ValueTask<HttpResponseMessage> pending, ResilienceContext context, CancellationToken cancellationToken)
    {
        try
        {
            var response = await pending.ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                // The caller cancelled while an answer was on its way (a handler below did not look at the token): the
                // caller asked for nothing more, so the response is released and the cancellation is the outcome.
                response.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
            }

            return response;
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && !IsCancellationOf(ex, cancellationToken))
        {
            // A failure that raced with the caller's cancellation (or a cancellation of a token of ours) is reported as
            // the caller's cancellation, carrying the caller's own token.
            throw new OperationCanceledException("The request was cancelled by the caller.", ex, cancellationToken);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            if (context.IsExpired)
            {
                var exceeded = context.CreateDeadlineExceeded(new TimeoutException("The request's budget was spent.", ex));
                context.AddEvent("deadline_exceeded");
                ObserveDeadline(context.ClientName, context.Deadline, context.Attempts);
                throw exceeded;
            }

            // Nobody cancelled: an inner handler gave up on its own (a connect timeout, say). Never let that pass for the
            // caller's cancellation.
            throw new HttpResilienceException($"The request of HttpClient '{context.ClientName}' was abandoned by an inner handler without cancellation.", ex);
        }
        catch (DeadlineExceededException)
        {
            context.AddEvent("deadline_exceeded");
            ObserveDeadline(context.ClientName, context.Deadline, context.Attempts);
            throw;
        }
        finally
        {
            context.Return();
        }
    }

    private static bool IsCancellationOf(Exception exception, CancellationToken cancellationToken)
        => exception is OperationCanceledException cancelled && cancelled.CancellationToken == cancellationToken;

    private void ObserveDeadline(string clientName, TimeSpan deadline, int attempts)
    {
        _registry.Metrics?.RecordDeadlineExceeded(clientName);
        Log.DeadlineExceeded(_registry.Logger, clientName, deadline, attempts);
    }
}
