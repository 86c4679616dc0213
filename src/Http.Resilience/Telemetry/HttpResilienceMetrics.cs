using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Http.Resilience;

/// <summary>The chain's instruments, on one meter named <see cref="MeterName"/> created through <see cref="IMeterFactory"/>.</summary>
/// <remarks>Names follow OpenTelemetry conventions: lowercase, dot-separated, with units. The README lists every one.</remarks>
internal sealed class HttpResilienceMetrics
{
    public const string MeterName = "Http.Resilience";

    private readonly Histogram<double> _attemptDuration;
    private readonly Counter<long> _timeouts;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _circuitTrips;
    private readonly Counter<long> _bulkheadRejections;
    private readonly Counter<long> _rateLimitRejections;
    private readonly Counter<long> _deadlineExceeded;
    private readonly Counter<long> _fallbacks;
    private readonly Counter<long> _faultsInjected;
    private readonly Counter<long> _retryBudgetExhausted;
    private readonly Counter<long> _throttleRejections;
    private readonly Counter<long> _hedges;
    private readonly Counter<long> _hedgesWon;

    public HttpResilienceMetrics(IMeterFactory meterFactory, ResilienceRegistry registry)
    {
        var meter = meterFactory.Create(MeterName);
        _attemptDuration = meter.CreateHistogram<double>(
            "http.resilience.attempt.duration",
            unit: "s",
            description: "Duration of each attempt sent to the dependency, by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10] });
        _timeouts = meter.CreateCounter<long>("http.resilience.attempt.timeouts", "{timeout}", "Attempts cut by their attempt timeout.");
        _retries = meter.CreateCounter<long>("http.resilience.retries", "{retry}", "Retry attempts, by attempt number and result.");
        _circuitTrips = meter.CreateCounter<long>("http.resilience.circuit.trips", "{trip}", "Times a circuit opened.");
        _bulkheadRejections = meter.CreateCounter<long>("http.resilience.bulkhead.rejections", "{request}", "Requests the bulkhead rejected.");
        _rateLimitRejections = meter.CreateCounter<long>("http.resilience.rate_limit.rejections", "{request}", "Requests the outbound rate limit rejected.");
        _deadlineExceeded = meter.CreateCounter<long>("http.resilience.deadline.exceeded", "{request}", "Logical requests whose budget was spent before a usable response.");
        _fallbacks = meter.CreateCounter<long>("http.resilience.fallbacks", "{response}", "Fallback responses served, by kind.");
        _faultsInjected = meter.CreateCounter<long>("http.resilience.faults.injected", "{fault}", "Faults injected on purpose, by kind.");
        _throttleRejections = meter.CreateCounter<long>("http.resilience.throttle.rejections", "{request}", "Requests rejected locally by adaptive throttling.");
        _retryBudgetExhausted = meter.CreateCounter<long>("http.resilience.retry_budget.exhausted", "{retry}", "Retries and hedged copies not sent because the retry budget was empty.");
        _hedges = meter.CreateCounter<long>("http.resilience.hedges", "{request}", "Hedged copies sent: requests sent beyond the first copy of an attempt.");
        _hedgesWon = meter.CreateCounter<long>("http.resilience.hedges.won", "{response}", "Hedged copies whose response was the one returned.");
        meter.CreateObservableGauge(
            "http.resilience.hedge.delay", () => ObserveHedgeDelays(registry), "s", "The hedging delay in force for each client that hedges (the adaptive one follows its recent attempt latencies).");
        meter.CreateObservableGauge(
            "http.resilience.hedge.extra_load", () => ObserveHedgeLoad(registry), "1", "Hedged copies sent per hedge-eligible attempt, over each client's recent attempts.");
        meter.CreateObservableGauge("http.resilience.circuit.state", () => ObserveCircuits(registry), "{state}", "Circuit state: 0 closed, 1 open, 2 half-open.");
        meter.CreateObservableGauge(
            "http.resilience.circuit.break_duration", () => ObserveBreaks(registry), "s", "Length of the current break of each circuit that is not closed (it adapts: see CircuitBreakerOptions).");
        meter.CreateObservableGauge(
            "http.resilience.circuit.ramp_limit", () => ObserveRamps(registry), "{request}", "Requests in flight allowed by each circuit ramping back up after a close.");
        meter.CreateObservableUpDownCounter("http.resilience.bulkhead.active", () => ObserveBulkheads(registry), "{request}", "Requests holding a bulkhead permit.");
        meter.CreateObservableGauge(
            "http.resilience.configuration.rejected",
            () => ObserveRejectedConfigurations(registry),
            "{configuration}",
            "1 while a client runs on its last valid options because its reloaded configuration is invalid, else 0.");
    }

    public bool AttemptDurationEnabled => _attemptDuration.Enabled;

    public void RecordAttempt(string client, TimeSpan duration, string outcome, int? statusCode)
    {
        if (!_attemptDuration.Enabled)
        {
            return;
        }

        var tags = new TagList { { HttpResilienceTagNames.ClientName, client }, { HttpResilienceTagNames.Outcome, outcome } };
        if (statusCode is { } status)
        {
            tags.Add(HttpResilienceTagNames.StatusCode, status);
        }

        _attemptDuration.Record(duration.TotalSeconds, tags);
    }

    public void RecordTimeout(string client) => _timeouts.Add(1, new KeyValuePair<string, object?>(HttpResilienceTagNames.ClientName, client));

    public void RecordRetry(string client, int attempt, string result)
        => _retries.Add(
            1,
            new KeyValuePair<string, object?>(HttpResilienceTagNames.ClientName, client),
            new KeyValuePair<string, object?>(HttpResilienceTagNames.Attempt, attempt),
            new KeyValuePair<string, object?>(HttpResilienceTagNames.Result, result));

    public void RecordCircuitTrip(string client, string? authority) => _circuitTrips.Add(1, ClientTags(client, authority));

    public void RecordBulkheadRejection(string client, string? authority) => _bulkheadRejections.Add(1, ClientTags(client, authority));

    public void RecordRateLimitRejection(string client) => _rateLimitRejections.Add(1, new KeyValuePair<string, object?>(HttpResilienceTagNames.ClientName, client));

    public void RecordThrottleRejection(string client) => _throttleRejections.Add(1, new KeyValuePair<string, object?>(HttpResilienceTagNames.ClientName, client));

    public void RecordRetryBudgetExhausted(string client) => _retryBudgetExhausted.Add(1, new KeyValuePair<string, object?>(HttpResilienceTagNames.ClientName, client));

    public void RecordHedge(string client) => _hedges.Add(1, new KeyValuePair<string, object?>(HttpResilienceTagNames.ClientName, client));

    public void RecordHedgeWon(string client) => _hedgesWon.Add(1, new KeyValuePair<string, object?>(HttpResilienceTagNames.ClientName, client));

    public void RecordDeadlineExceeded(string client) => _deadlineExceeded.Add(1, new KeyValuePair<string, object?>(HttpResilienceTagNames.ClientName, client));

    public void RecordFallback(string client, string kind)
        => _fallbacks.Add(1, new KeyValuePair<string, object?>(HttpResilienceTagNames.ClientName, client), new KeyValuePair<string, object?>(HttpResilienceTagNames.FallbackKind, kind));

    public void RecordFaultInjected(string client, string kind)
        => _faultsInjected.Add(1, new KeyValuePair<string, object?>(HttpResilienceTagNames.ClientName, client), new KeyValuePair<string, object?>(HttpResilienceTagNames.ErrorType, kind));

    private static TagList ClientTags(string client, string? authority)
    {
        var tags = new TagList { { HttpResilienceTagNames.ClientName, client } };
        if (authority is not null)
        {
            tags.Add(HttpResilienceTagNames.Authority, authority);
        }

        return tags;
    }

    private static IEnumerable<Measurement<int>> ObserveCircuits(ResilienceRegistry registry)
    {
        foreach (var circuit in registry.GetCircuitBreakers())
        {
            yield return new Measurement<int>((int)circuit.State, ClientTags(circuit.ClientName, circuit.Authority));
        }
    }

    private static IEnumerable<Measurement<double>> ObserveBreaks(ResilienceRegistry registry)
    {
        foreach (var circuit in registry.GetCircuitBreakers())
        {
            if (circuit.BreakDuration is { } length)
            {
                yield return new Measurement<double>(length.TotalSeconds, ClientTags(circuit.ClientName, circuit.Authority));
            }
        }
    }

    private static IEnumerable<Measurement<int>> ObserveRamps(ResilienceRegistry registry)
    {
        foreach (var circuit in registry.GetCircuitBreakers())
        {
            if (circuit.RampLimit is { } limit)
            {
                yield return new Measurement<int>(limit, ClientTags(circuit.ClientName, circuit.Authority));
            }
        }
    }

    private static IEnumerable<Measurement<double>> ObserveHedgeDelays(ResilienceRegistry registry)
    {
        foreach (var client in registry.Clients)
        {
            if (client.HedgingLatenciesIfUsed?.LastDelay is { } delay)
            {
                yield return new Measurement<double>(delay.TotalSeconds, new KeyValuePair<string, object?>(HttpResilienceTagNames.ClientName, client.Name));
            }
        }
    }

    private static IEnumerable<Measurement<double>> ObserveHedgeLoad(ResilienceRegistry registry)
    {
        foreach (var client in registry.Clients)
        {
            if (client.HedgingLatenciesIfUsed is { } latencies)
            {
                yield return new Measurement<double>(latencies.ExtraLoad, new KeyValuePair<string, object?>(HttpResilienceTagNames.ClientName, client.Name));
            }
        }
    }

    private static IEnumerable<Measurement<int>> ObserveRejectedConfigurations(ResilienceRegistry registry)
    {
        foreach (var client in registry.Clients)
        {
            yield return new Measurement<int>(client.Rejection is null ? 0 : 1, new KeyValuePair<string, object?>(HttpResilienceTagNames.ClientName, client.Name));
        }
    }

    private static IEnumerable<Measurement<int>> ObserveBulkheads(ResilienceRegistry registry)
    {
        foreach (var bulkhead in registry.GetBulkheads())
        {
            yield return new Measurement<int>(bulkhead.Active, ClientTags(bulkhead.ClientName, bulkhead.Authority));
        }
    }
}
