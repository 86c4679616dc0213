using System.Net;

namespace Http.Resilience;

/// <summary>The one place that classifies outcomes. The retry loop, the circuit, the fallback and the metrics all read it.</summary>
/// <remarks>
/// <para>The table (each row's views are on <see cref="Outcome"/>):</para>
/// <list type="table">
/// <listheader><term>outcome</term><description>retried / counted by the circuit / fallback reason</description></listheader>
/// <item><term>1xx-3xx</term><description>no / success (failure when slower than <c>SlowCallDuration</c>) / none</description></item>
/// <item><term>429; 503 with Retry-After</term><description>yes, after Retry-After / 503 failure, 429 not counted by default / server error for 503</description></item>
/// <item><term>408, 500, 502, 503, 504</term><description>yes / failure / server error (5xx)</description></item>
/// <item><term>other 4xx</term><description>no / success / none</description></item>
/// <item><term>501, 505, other 5xx</term><description>no / failure / server error</description></item>
/// <item><term>network failure</term><description>yes (not TLS or configuration errors) / failure / network error</description></item>
/// <item><term>attempt timeout; a handler below giving up</term><description>yes / failure / timeout; deadline</description></item>
/// <item><term>the budget spent</term><description>no / failure / deadline</description></item>
/// <item><term>circuit open, bulkhead full, rate limited</term><description>no / not counted / the same-named reason</description></item>
/// <item><term>the caller's cancellation</term><description>never / never / never</description></item>
/// </list>
/// <para>
/// "Was this the caller's cancellation?" has one answer: <see cref="ResilienceContext.CallerCancelled"/>, the token the caller
/// passed in. Once it has fired, no layer retries or serves a fallback, whatever else happened.
/// </para>
/// </remarks>
internal static class OutcomeClassifier
{
    public static Outcome Classify(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        var kind = status < 400
            ? OutcomeKind.Success
            : response.StatusCode switch
            {
                HttpStatusCode.TooManyRequests => OutcomeKind.Throttled,
                HttpStatusCode.ServiceUnavailable => response.Headers.RetryAfter is null ? OutcomeKind.Transient : OutcomeKind.Throttled,
                HttpStatusCode.RequestTimeout or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout => OutcomeKind.Transient,
                _ => OutcomeKind.Permanent,
            };
        return new Outcome(kind, OutcomeCause.Response, status);
    }

    /// <summary>
    /// Classifies a response for the retry loop, with what the server said about retrying it: a should-retry header
    /// (<see cref="PushbackOptions.ShouldRetryHeaders"/>) saying <c>false</c> makes any response final; with an
    /// idempotency key, a 409 (the same key still being processed) is retried, and more so when a header says <c>true</c>;
    /// 422 (the key reused with another body) never is.
    /// </summary>
    public static Outcome ClassifyForRetry(HttpResponseMessage response, HttpRequestMessage request, HttpResilienceOptions options)
    {
        var outcome = Classify(response);
        if (outcome.Kind == OutcomeKind.Success)
        {
            return outcome;
        }

        var says = ShouldRetry(response, options.Pushback.ShouldRetryHeaders);
        if (says == false)
        {
            return outcome with { Kind = OutcomeKind.Permanent, RetryRefused = true };
        }

        if (response.StatusCode == HttpStatusCode.Conflict && (says == true || IdempotencyKey.HasKey(request, options.Idempotency.HeaderName)))
        {
            return outcome with { Kind = OutcomeKind.Transient };
        }

        return outcome;
    }

    /// <summary>What the response's should-retry headers say: <see langword="true"/>, <see langword="false"/>, or nothing.</summary>
    private static bool? ShouldRetry(HttpResponseMessage response, string[] headers)
    {
        foreach (var name in headers)
        {
            if (response.Headers.NonValidated.TryGetValues(name, out var values))
            {
                foreach (var value in values)
                {
                    if (bool.TryParse(value.Trim(), out var says))
                    {
                        return says;
                    }
                }
            }
        }

        return null;
    }

    /// <summary>Classifies an exception from the layers below, for the request of <paramref name="context"/>.</summary>
    public static Outcome Classify(Exception exception, ResilienceContext context) => Classify(exception, context.CallerCancelled);

    /// <param name="exception">What the layers below threw.</param>
    /// <param name="callerCancelled">Whether the caller's own token has fired (<see cref="ResilienceContext.CallerCancelled"/>).</param>
    public static Outcome Classify(Exception exception, bool callerCancelled) => exception switch
    {
        OperationCanceledException when callerCancelled => new(OutcomeKind.Permanent, OutcomeCause.CallerCancelled, 0),
        OperationCanceledException => new(OutcomeKind.Transient, OutcomeCause.InnerCancelled, 0),
        AttemptTimeoutException => new(OutcomeKind.Transient, OutcomeCause.AttemptTimeout, 0),
        DeadlineExceededException => new(OutcomeKind.Permanent, OutcomeCause.Deadline, 0),
        CircuitOpenException => new(OutcomeKind.Permanent, OutcomeCause.CircuitOpen, 0),
        BulkheadRejectedException => new(OutcomeKind.Permanent, OutcomeCause.BulkheadRejected, 0),
        RateLimitRejectedException => new(OutcomeKind.Permanent, OutcomeCause.RateLimited, 0),
        AdaptiveThrottleRejectedException => new(OutcomeKind.Permanent, OutcomeCause.Throttled, 0),
        HttpResilienceException => new(OutcomeKind.Permanent, OutcomeCause.OtherTimeout, 0),
        HttpRequestException http => new(IsRetryable(http.HttpRequestError) ? OutcomeKind.Transient : OutcomeKind.Permanent, OutcomeCause.NetworkError, (int?)http.StatusCode ?? 0),
        IOException => new(OutcomeKind.Transient, OutcomeCause.NetworkError, 0),
        TimeoutException => new(OutcomeKind.Permanent, OutcomeCause.OtherTimeout, 0),
        _ => new(OutcomeKind.Permanent, OutcomeCause.Other, 0),
    };

    /// <summary>Whether an exception, by its type alone, is a transient failure worth another attempt.</summary>
    /// <remarks>A cancellation is never transient by type: whether it was the caller's is a question for <see cref="Classify(Exception, ResilienceContext)"/>.</remarks>
    public static bool IsTransient(Exception exception)
        => exception is not OperationCanceledException && Classify(exception, callerCancelled: false).IsRetryable;

    /// <summary>Idempotent methods of RFC 9110 section 9.2.2: safe to send more than once.</summary>
    public static bool IsIdempotent(HttpMethod method)
        => method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options ||
           method == HttpMethod.Trace || method == HttpMethod.Put || method == HttpMethod.Delete;

    /// <summary>Whether the request may be sent more than once: an idempotent method, or any method with an idempotency key.</summary>
    public static bool IsRetryable(HttpRequestMessage request, HttpResilienceOptions options)
        => IsIdempotent(request.Method) || IdempotencyKey.HasKey(request, options.Idempotency.HeaderName);

    /// <summary>Network errors that another attempt cannot fix: TLS, authentication, protocol and configuration failures.</summary>
    private static bool IsRetryable(HttpRequestError error) => error is not (
        HttpRequestError.SecureConnectionError or
        HttpRequestError.UserAuthenticationError or
        HttpRequestError.ExtendedConnectNotSupported or
        HttpRequestError.VersionNegotiationError or
        HttpRequestError.ConfigurationLimitExceeded);
}
