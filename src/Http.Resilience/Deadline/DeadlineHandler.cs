using Microsoft.Extensions.Options;

namespace Http.Resilience;

/// <summary>
/// The outermost layer: takes one options snapshot, starts the request's budget and links the caller's token to it.
/// </summary>
/// <remarks>
/// Every inner layer reads the budget from the <see cref="ResilienceContext"/> this handler puts in the request's options,
/// and receives a token that fires when either the caller cancels or the budget is spent. The caller's token always wins:
/// when it fired, its <see cref="OperationCanceledException"/> passes through untouched; when only the budget fired, the
/// request fails with <see cref="DeadlineExceededException"/>.
/// </remarks>
internal sealed class DeadlineHandler : DelegatingHandler
{
    private readonly string _clientName;
    private readonly IOptionsMonitor<HttpResilienceOptions> _optionsMonitor;
    private readonly ClientResilienceState _state;
    private readonly TimeProvider _timeProvider;
    private readonly ResilienceRegistry _registry;

    public DeadlineHandler(string clientName, IOptionsMonitor<HttpResilienceOptions> optionsMonitor, ResilienceRegistry registry)
    {
        _clientName = clientName;
        _optionsMonitor = optionsMonitor;
        _registry = registry;
        _state = registry.GetOrAdd(clientName);
        _timeProvider = registry.TimeProvider;
    }

    /// <remarks>
    /// The synchronous <see cref="HttpClient.Send(HttpRequestMessage)"/> runs the same asynchronous chain and blocks on it,
    /// rather than letting the default <see cref="DelegatingHandler"/> behaviour skip every layer.
    /// </remarks>
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        => SendAsync(request, cancellationToken).GetAwaiter().GetResult();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);

        // Validation happens here (and on CreateClient), never in a constructor: IHttpClientFactory caches
        // handler-construction failures, and a corrected configuration must recover on reload.
        var options = _optionsMonitor.Get(_clientName);
        var deadline = TimeMath.Min(options.Deadline, _state.HttpClientTimeout);
        if (InheritedDeadline.TimeLeft is { } inherited)
        {
            deadline = TimeMath.Min(deadline, inherited);
        }

        if (deadline == TimeSpan.Zero)
        {
            // The request being served has no time left: send nothing.
            ObserveDeadline(_clientName, TimeSpan.Zero, attempts: 0);
            throw new DeadlineExceededException($"The request of HttpClient '{_clientName}' was not sent: the deadline it inherited was already spent.", TimeSpan.Zero, null);
        }

        var context = new ResilienceContext(_clientName, options, _timeProvider, deadline, cancellationToken);
        request.Options.Set(ResilienceContext.Key, context);

        return SendWithinDeadlineAsync(request, context, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendWithinDeadlineAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        using var budget = LinkedTimeout.Start(context.Deadline, _timeProvider, cancellationToken);
        try
        {
            return await base.SendAsync(request, budget.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            if (budget.Fired)
            {
                var exceeded = context.CreateDeadlineExceeded(new TimeoutException("The request's budget was spent.", ex));
                ObserveDeadline(context.ClientName, context.Deadline, context.Attempts);
                throw exceeded;
            }

            // Nobody cancelled: an inner handler gave up on its own (a connect timeout, say). Never let that pass for the
            // caller's cancellation.
            throw new HttpResilienceException($"The request of HttpClient '{context.ClientName}' was abandoned by an inner handler without cancellation.", ex);
        }
        catch (DeadlineExceededException) when (ObserveDeadline(context.ClientName, context.Deadline, context.Attempts))
        {
            throw; // unreachable: ObserveDeadline only records, and returns false
        }
    }

    private bool ObserveDeadline(string clientName, TimeSpan deadline, int attempts)
    {
        _registry.Metrics?.RecordDeadlineExceeded(clientName);
        Log.DeadlineExceeded(_registry.Logger, clientName, deadline, attempts);
        return false;
    }
}
