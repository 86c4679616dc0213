using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;

namespace Http.Resilience;

/// <summary>Rejects requests locally while the dependency is refusing many of them (see <see cref="AdaptiveThrottlingOptions"/>).</summary>
/// <remarks>
/// It sits just inside the rate limit and outside the bulkhead: a request it rejects never takes a permit, and it counts
/// logical requests (one per request, however many attempts the retry layer below makes).
/// </remarks>
internal sealed class AdaptiveThrottlingHandler : ResilienceHandler
{
    private readonly ResilienceRegistry _registry;

    public AdaptiveThrottlingHandler(ResilienceRegistry registry)
    {
        _registry = registry;
    }

    internal override ValueTask<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        if (context.Options.AdaptiveThrottling is not { Enabled: true } options)
        {
            return SendNextAsync(request, context, cancellationToken);
        }

        var throttle = ReloadableState.GetOrCreate(ref context.Client.AdaptiveThrottle, options, context.TimeProvider);
        var now = context.StartTimestamp;
        var probability = throttle.RejectionProbability(now);
        throttle.RecordRequest(now); // rejected requests count too: that is what lets the rate fall to K times the accepts
        if (probability > 0 && _registry.ThrottleRandom() < probability)
        {
            DownstreamGiveUp.Note();
            _registry.Metrics?.RecordThrottleRejection(context.ClientName);
            Log.AdaptiveThrottleRejected(_registry.Logger, context.ClientName, probability);
            return ValueTask.FromException<HttpResponseMessage>(new AdaptiveThrottleRejectedException(string.Create(
                CultureInfo.InvariantCulture,
                $"HttpClient '{context.ClientName}' rejected the request locally (adaptive throttling, probability {probability:0.00}): the dependency has been refusing requests. The request was not sent.")));
        }

        return SendAndCountAsync(request, context, throttle, now, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // its state machine is reused, not allocated per request
    private async ValueTask<HttpResponseMessage> SendAndCountAsync(HttpRequestMessage request, ResilienceContext context, AdaptiveThrottle throttle, long started, CancellationToken cancellationToken)
    {
        var response = await SendNextAsync(request, context, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable))
        {
            throttle.RecordAccept(started); // the dependency took it; failures without a response are not accepts
        }

        return response;
    }
}
