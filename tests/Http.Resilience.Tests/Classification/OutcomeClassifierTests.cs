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
        Assert.Equal(Enum.Parse<OutcomeKind>(expected), OutcomeClassifier.Classify(response));
    }

    [Fact]
    public void Classify_503WithRetryAfter_IsThrottled()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        response.Headers.Add("Retry-After", "5");
        Assert.Equal(OutcomeKind.Throttled, OutcomeClassifier.Classify(response));
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
}
