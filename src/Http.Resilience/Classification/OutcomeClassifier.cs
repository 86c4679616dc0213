using System.Net;

namespace Http.Resilience;

/// <summary>The one place that classifies outcomes; used by retry now and by the circuit breaker later.</summary>
internal static class OutcomeClassifier
{
    public static OutcomeKind Classify(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (status < 400)
        {
            return OutcomeKind.Success;
        }

        return response.StatusCode switch
        {
            HttpStatusCode.TooManyRequests => OutcomeKind.Throttled,
            HttpStatusCode.ServiceUnavailable => response.Headers.RetryAfter is null ? OutcomeKind.Transient : OutcomeKind.Throttled,
            HttpStatusCode.RequestTimeout or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout => OutcomeKind.Transient,
            _ => OutcomeKind.Permanent,
        };
    }

    /// <summary>Whether an exception from an attempt is a transient failure worth another attempt.</summary>
    /// <remarks>Cancellation (the caller's or the budget's) and the chain's own rejections are never transient.</remarks>
    public static bool IsTransient(Exception exception) => exception switch
    {
        OperationCanceledException => false,
        AttemptTimeoutException => true,
        HttpResilienceException => false,
        HttpRequestException http => http.HttpRequestError is not (
            HttpRequestError.SecureConnectionError or
            HttpRequestError.UserAuthenticationError or
            HttpRequestError.ExtendedConnectNotSupported or
            HttpRequestError.VersionNegotiationError or
            HttpRequestError.ConfigurationLimitExceeded),
        IOException => true,
        _ => false,
    };

    /// <summary>Idempotent methods of RFC 9110 section 9.2.2: safe to send more than once.</summary>
    public static bool IsIdempotent(HttpMethod method)
        => method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options ||
           method == HttpMethod.Trace || method == HttpMethod.Put || method == HttpMethod.Delete;

    /// <summary>Whether the request may be sent more than once: an idempotent method, or any method with an idempotency key.</summary>
    public static bool IsRetryable(HttpRequestMessage request, HttpResilienceOptions options)
        => IsIdempotent(request.Method) || IdempotencyKey.HasKey(request, options.Idempotency.HeaderName);
}
