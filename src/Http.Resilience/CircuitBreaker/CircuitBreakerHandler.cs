using System.Runtime.CompilerServices;

namespace Http.Resilience;

/// <summary>
/// Fails fast while the dependency is known broken. It sits outside the retry loop, so it sees one outcome per logical
/// request: two user requests of three attempts each are two failures, not six, so retries never multiply failures
/// into an open circuit.
/// </summary>
internal sealed class CircuitBreakerHandler : ResilienceHandler
{
    /// <summary>What a probe may run past its own budget (to report its outcome) before another request takes over probing.</summary>
    private static readonly TimeSpan ProbeGrace = TimeSpan.FromSeconds(1);

    private readonly ResilienceRegistry _registry;

    public CircuitBreakerHandler(ResilienceRegistry registry)
    {
        _registry = registry;
    }

    internal override ValueTask<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        if (context.Options.CircuitBreaker is not { Enabled: true } options)
        {
            return SendNextAsync(request, context, cancellationToken);
        }

        var circuit = options.PerAuthority
            ? _registry.GetOrAddCircuit(context.Client, context.AuthorityOf(request), options.MaxAuthorities)
            : _registry.GetOrAddCircuit(context.Client, null);
        var permit = circuit.TryEnter(options, static context => ProbeLease(context), context);
        if (permit.Kind == CircuitPermitKind.Rejected)
        {
            DownstreamGiveUp.Note(); // the dependency is known broken: the layers above must not retry into it either
            // Not thrown here: the rejection reaches the caller through the returned task, which spares it one of the
            // exception dispatches that make up most of a rejection's cost.
            if (context.Activity is not null)
            {
                context.AddEvent("circuit_rejected", ResilienceActivity.Tag("http.resilience.retry_after_ms", permit.RetryAfter?.TotalMilliseconds));
            }

            return ValueTask.FromException<HttpResponseMessage>(CreateOpenException(circuit, permit));
        }

        context.Circuit = circuit;
        context.CircuitPermit = permit;
        return SendThrough(request, context, circuit, permit, options, cancellationToken);
    }

    /// <summary>
    /// A probe holds the circuit for one break, or for its own budget (and a grace) when that ends sooner: a dependency
    /// that hangs must not keep the circuit shut for a probe's whole deadline. This gives the budget's part; the circuit
    /// takes the smaller of it and the break.
    /// </summary>
    private static TimeSpan ProbeLease(ResilienceContext context)
    {
        var remaining = context.Remaining;
        return TimeMath.IsInfinite(remaining) ? remaining : remaining + ProbeGrace;
    }

    /// <summary>Sends through the circuit and reports the outcome to it: at once when the rest of the chain completed synchronously.</summary>
    private ValueTask<HttpResponseMessage> SendThrough(
        HttpRequestMessage request, ResilienceContext context, CircuitStateController circuit, CircuitPermit permit, CircuitBreakerOptions options, CancellationToken cancellationToken)
    {
        var timed = options.SlowCallDuration is not null; // the call is timed only to judge slow calls
        var started = timed ? context.TimeProvider.GetTimestamp() : 0;
        ValueTask<HttpResponseMessage> pending;
        try
        {
            pending = SendNextAsync(request, context, cancellationToken);
        }
        catch (Exception ex)
        {
            circuit.Complete(permit, Classify(ex, context, options), options);
            throw;
        }

        if (!pending.IsCompletedSuccessfully)
        {
            return CompleteWhenDoneAsync(pending, context, circuit, permit, options, timed, started);
        }

        var response = pending.Result;
        PushbackObserver.Observe(response, context);
        var outcome = Classify(response, options, timed ? context.TimeProvider.GetElapsedTime(started) : TimeSpan.Zero);
        circuit.Complete(permit, outcome, options, ServerWait(response, outcome, permit, context));
        return new ValueTask<HttpResponseMessage>(response);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // its state machine is reused, not allocated per request
    private static async ValueTask<HttpResponseMessage> CompleteWhenDoneAsync(
        ValueTask<HttpResponseMessage> pending, ResilienceContext context, CircuitStateController circuit, CircuitPermit permit, CircuitBreakerOptions options, bool timed, long started)
    {
        var outcome = CircuitOutcome.Ignored;
        TimeSpan? serverWait = null;
        try
        {
            var response = await pending.ConfigureAwait(false);
            PushbackObserver.Observe(response, context); // for the pushback gate and share of the rate-limit layer
            outcome = Classify(response, options, timed ? context.TimeProvider.GetElapsedTime(started) : TimeSpan.Zero);
            serverWait = ServerWait(response, outcome, permit, context);
            return response;
        }
        catch (Exception ex)
        {
            outcome = Classify(ex, context, options);
            throw;
        }
        finally
        {
            circuit.Complete(permit, outcome, options, serverWait);
        }
    }

    /// <summary>The wait a response that may open the circuit names: read only for a failure, or for a probe that did not succeed.</summary>
    private static TimeSpan? ServerWait(HttpResponseMessage response, CircuitOutcome outcome, CircuitPermit permit, ResilienceContext context)
        => (outcome == CircuitOutcome.Failure || (permit.Kind == CircuitPermitKind.Probe && outcome != CircuitOutcome.Success)) &&
           context.TryGetServerWait(response, out var wait)
            ? wait
            : null;

    private static CircuitOutcome Classify(HttpResponseMessage response, CircuitBreakerOptions options, TimeSpan duration)
        => OutcomeClassifier.Classify(response).ForCircuit(options, duration);

    private static CircuitOutcome Classify(Exception exception, ResilienceContext context, CircuitBreakerOptions options)
        => OutcomeClassifier.Classify(exception, context).ForCircuit(options, TimeSpan.Zero);

    private static CircuitOpenException CreateOpenException(CircuitStateController circuit, CircuitPermit permit)
    {
        var name = circuit.Authority is null ? $"'{circuit.ClientName}'" : $"'{circuit.ClientName}' ({circuit.Authority})";
        var when = permit.RetryAfter is { } retryAfter
            ? $"a probe is allowed in {retryAfter.TotalMilliseconds:F0} ms"
            : "a probe request is in flight";
        return new CircuitOpenException($"The circuit of HttpClient {name} is open; the request was not sent ({when}).", permit.RetryAfter);
    }
}
