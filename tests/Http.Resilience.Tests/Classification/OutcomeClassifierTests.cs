using System.Net;

namespace Http.Resilience.Tests;

public class OutcomeClassifierTests
{
    [Theory]
    [InlineData(200, "Success")]
    [InlineData(204, "Success")]
    [InlineData(304, "Success")]
    [InlineData(400, "Permanent")]
    [InlineData(401, "Permanent")]
    [InlineData(404, "Permanent")]
    [InlineData(408, "Transient")]
    [InlineData(409, "Permanent")]
    [InlineData(429, "Throttled")]
    [InlineData(500, "Transient")]
    [InlineData(501, "Permanent")]
    [InlineData(502, "Transient")]
    [InlineData(503, "Transient")]
    [InlineData(504, "Transient")]
    [InlineData(505, "Permanent")]
    [InlineData(507, "Permanent")]
    public void Classify_Status(int status, string expected)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        Assert.Equal(Enum.Parse<OutcomeKind>(expected), OutcomeClassifier.Classify(response).Kind);
    }

    [Fact]
    public void Classify_503WithRetryAfter_IsThrottled()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        response.Headers.Add("Retry-After", "5");
        Assert.Equal(OutcomeKind.Throttled, OutcomeClassifier.Classify(response).Kind);
    }

    public static TheoryData<Exception, bool> Exceptions => new()
    {
        { new HttpRequestException("refused"), true },
        { new HttpRequestException(HttpRequestError.ConnectionError, "refused"), true },
        { new HttpRequestException(HttpRequestError.ResponseEnded, "reset"), true },
        { new HttpRequestException(HttpRequestError.SecureConnectionError, "tls"), false },
        { new HttpRequestException(HttpRequestError.ConfigurationLimitExceeded, "headers too long"), false },
        { new IOException("reset"), true },
        { new AttemptTimeoutException("attempt", new TimeoutException()), true },
        { new OperationCanceledException(), false },
        { new TaskCanceledException(), false },
        { new DeadlineExceededException("spent"), false },
        { new CircuitOpenException("open", TimeSpan.FromSeconds(1)), false },
        { new BulkheadRejectedException("full"), false },
        { new InvalidOperationException(), false },
    };

    [Theory]
    [MemberData(nameof(Exceptions))]
    public void IsTransient_Exception(Exception exception, bool expected)
        => Assert.Equal(expected, OutcomeClassifier.IsTransient(exception));

    [Theory]
    [InlineData("GET", true)]
    [InlineData("HEAD", true)]
    [InlineData("OPTIONS", true)]
    [InlineData("TRACE", true)]
    [InlineData("PUT", true)]
    [InlineData("DELETE", true)]
    [InlineData("POST", false)]
    [InlineData("PATCH", false)]
    [InlineData("CONNECT", false)]
    [InlineData("PURGE", false)]
    public void IsIdempotent_FollowsRfc9110(string method, bool expected)
        => Assert.Equal(expected, OutcomeClassifier.IsIdempotent(new HttpMethod(method)));

    [Theory]
    [InlineData(200, "Success")]
    [InlineData(404, "Success")]
    [InlineData(408, "Failure")]
    [InlineData(429, "Ignored")]
    [InlineData(500, "Failure")]
    [InlineData(501, "Failure")]
    [InlineData(503, "Failure")]
    [InlineData(505, "Failure")]
    public void ForCircuit_Status(int status, string expected)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        Assert.Equal(Enum.Parse<CircuitOutcome>(expected), OutcomeClassifier.Classify(response).ForCircuit(new CircuitBreakerOptions(), TimeSpan.Zero));
    }

    [Fact]
    public void ForCircuit_429WhenCountedAndSlowSuccess_AreFailures()
    {
        using var throttled = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        using var ok = new HttpResponseMessage(HttpStatusCode.OK);
        var options = new CircuitBreakerOptions { CountTooManyRequestsAsFailure = true, SlowCallDuration = TimeSpan.FromSeconds(1) };

        Assert.Equal(CircuitOutcome.Failure, OutcomeClassifier.Classify(throttled).ForCircuit(options, TimeSpan.Zero));
        Assert.Equal(CircuitOutcome.Failure, OutcomeClassifier.Classify(ok).ForCircuit(options, TimeSpan.FromSeconds(2)));
        Assert.Equal(CircuitOutcome.Success, OutcomeClassifier.Classify(ok).ForCircuit(options, TimeSpan.FromMilliseconds(500)));
    }

    [Theory]
    [InlineData(200, null, "success")]
    [InlineData(404, null, "http_error")]
    [InlineData(500, FallbackReason.ServerError, "http_error")]
    [InlineData(503, FallbackReason.ServerError, "http_error")]
    public void FallbackAndMetricViews_Status(int status, FallbackReason? reason, string metric)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        var outcome = OutcomeClassifier.Classify(response);
        Assert.Equal(reason, outcome.FallbackReason);
        Assert.Equal(metric, outcome.AttemptMetricName);
    }

    public static TheoryData<Exception, bool, bool, string, FallbackReason?, string> ExceptionViews => new()
    {
        // exception, caller cancelled, retried, circuit, fallback reason, attempt metric
        { new OperationCanceledException(), true, false, "Ignored", null, "cancelled" },
        { new OperationCanceledException(), false, true, "Failure", FallbackReason.DeadlineExceeded, "deadline" },
        { new AttemptTimeoutException("attempt", new TimeoutException()), false, true, "Failure", FallbackReason.Timeout, "timeout" },
        { new DeadlineExceededException("spent"), false, false, "Failure", FallbackReason.DeadlineExceeded, "deadline" },
        { new HttpRequestException("refused"), false, true, "Failure", FallbackReason.NetworkError, "network_error" },
        { new HttpRequestException(HttpRequestError.SecureConnectionError, "tls"), false, false, "Failure", FallbackReason.NetworkError, "network_error" },
        { new IOException("reset"), false, true, "Failure", FallbackReason.NetworkError, "network_error" },
        { new CircuitOpenException("open", TimeSpan.FromSeconds(1)), false, false, "Ignored", FallbackReason.CircuitOpen, "network_error" },
        { new BulkheadRejectedException("full"), false, false, "Ignored", FallbackReason.BulkheadRejected, "network_error" },
        { new RateLimitRejectedException("limited"), false, false, "Ignored", FallbackReason.RateLimited, "network_error" },
        { new InvalidOperationException(), false, false, "Ignored", null, "network_error" },
    };

    [Theory]
    [MemberData(nameof(ExceptionViews))]
    public void Views_Exception(Exception exception, bool callerCancelled, bool retried, string circuit, FallbackReason? reason, string metric)
    {
        var outcome = OutcomeClassifier.Classify(exception, callerCancelled);

        Assert.Equal(retried, outcome.IsRetryable);
        Assert.Equal(Enum.Parse<CircuitOutcome>(circuit), outcome.ForCircuit(new CircuitBreakerOptions(), TimeSpan.Zero));
        Assert.Equal(reason, outcome.FallbackReason);
        Assert.Equal(metric, outcome.AttemptMetricName);
    }
}
