using System.Net;

namespace Http.Resilience;

/// <summary>Injects failures and latency per <see cref="FaultInjectionOptions"/>, just before the primary handler.</summary>
internal sealed class FaultInjectionHandler : ResilienceHandler
{
    private readonly ResilienceRegistry _registry;

    public FaultInjectionHandler(ResilienceRegistry registry)
    {
        _registry = registry;
    }

    internal override ValueTask<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
        => context.Options.FaultInjection is { Enabled: true } options
            ? InjectAsync(request, context, options, cancellationToken)
            : SendNextAsync(request, context, cancellationToken);

    private async ValueTask<HttpResponseMessage> InjectAsync(HttpRequestMessage request, ResilienceContext context, FaultInjectionOptions options, CancellationToken cancellationToken)
    {
        var random = _registry.GetOrAddFaultRandom(context.ClientName, options.Seed);
        if (options.Latency > TimeSpan.Zero && random.NextDouble() < options.LatencyRate)
        {
            var delay = options.RandomLatency ? TimeSpan.FromTicks((long)(options.Latency.Ticks * random.NextDouble())) : options.Latency;
            Record(context, "latency", $"{delay.TotalMilliseconds:F0} ms of latency");
            await Task.Delay(delay, context.TimeProvider, cancellationToken).ConfigureAwait(false);
        }

        if (options.FailureRate > 0 && random.NextDouble() < options.FailureRate)
        {
            if (options.FailureStatusCode == 0)
            {
                Record(context, "exception", "a connection failure");
                throw new HttpRequestException(HttpRequestError.ConnectionError, $"Fault injection: a failure of HttpClient '{context.ClientName}' was injected.");
            }

            Record(context, "status_code", $"a {options.FailureStatusCode} response");
            return new HttpResponseMessage((HttpStatusCode)options.FailureStatusCode) { RequestMessage = request, Content = new StringContent(string.Empty) };
        }

        return await SendNextAsync(request, context, cancellationToken).ConfigureAwait(false);
    }

    private void Record(ResilienceContext context, string kind, string fault)
    {
        _registry.Metrics?.RecordFaultInjected(context.ClientName, kind);
        Log.FaultInjected(_registry.Logger, context.ClientName, fault);
    }
}
