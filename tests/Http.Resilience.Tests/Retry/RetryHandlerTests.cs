using System.Net;
using System.Text;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests;

public class RetryHandlerTests
{
    private static ChainHarness Create(Action<HttpResilienceOptions>? configure = null, double jitter = 0)
        => new(o =>
        {
            o.Retry.BaseDelay = TimeSpan.Zero;
            configure?.Invoke(o);
        }, jitter: jitter);

    [Fact]
    public async Task SendAsync_503_503_200_ReturnsOkAndDisposesDiscardedResponses()
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, h.Stub.CallCount);
        Assert.True(((TrackingContent)h.Stub.Responses[0].Content).IsDisposed);
        Assert.True(((TrackingContent)h.Stub.Responses[1].Content).IsDisposed);
        Assert.False(((TrackingContent)h.Stub.Responses[2].Content).IsDisposed);
    }

    [Fact]
    public async Task SendAsync_RetriesRunOut_ReturnsLastResponseUndisposed()
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.InternalServerError);

        using var response = await h.CreateClient().GetAsync("/");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(3, h.Stub.CallCount); // MaxRetries 2
        Assert.False(((TrackingContent)h.Stub.Responses[2].Content).IsDisposed);
        Assert.Throws<HttpRequestException>(() => response.EnsureSuccessStatusCode());
    }

    [Theory]
    [InlineData(HttpStatusCode.RequestTimeout)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task SendAsync_TransientOrThrottledStatus_IsRetried(HttpStatusCode status)
    {
        using var h = Create();
        h.Stub.ThenStatus(status).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Stub.CallCount);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Conflict)]
    [InlineData(HttpStatusCode.NotImplemented)]
    [InlineData(HttpStatusCode.HttpVersionNotSupported)]
    public async Task SendAsync_PermanentStatus_IsNotRetried(HttpStatusCode status)
    {
        using var h = Create();
        h.Stub.ThenStatus(status).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().GetAsync("/");

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_NetworkFailures_AreRetried()
    {
        using var h = Create();
        h.Stub.ThenThrow(new HttpRequestException(HttpRequestError.ConnectionError, "refused"))
            .ThenThrow(new IOException("reset"))
            .ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_NetworkFailureOnLastAttempt_RethrowsTheOriginalException()
    {
        using var h = Create();
        var last = new HttpRequestException(HttpRequestError.ConnectionError, "refused for good");
        h.Stub.ThenThrow(new HttpRequestException(HttpRequestError.ConnectionError, "refused"))
            .ThenThrow(new HttpRequestException(HttpRequestError.ConnectionError, "refused"))
            .ThenThrow(last);

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => h.CreateClient().GetAsync("/"));

        Assert.Same(last, ex);
        Assert.Equal(3, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_TlsFailure_IsNotRetried()
    {
        using var h = Create();
        h.Stub.ThenThrow(new HttpRequestException(HttpRequestError.SecureConnectionError, "bad certificate"));

        await Assert.ThrowsAsync<HttpRequestException>(() => h.CreateClient().GetAsync("/"));
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_CallerCancelsAsTheLastAttemptFails_CancellationWinsOverTheNetworkError()
    {
        using var h = Create(o => o.Retry.MaxRetries = 0);
        using var cts = new CancellationTokenSource();
        h.Stub.Then((_, _) =>
        {
            cts.Cancel();
            return Task.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.ConnectionError, "reset"));
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.CreateClient().GetAsync("/", cts.Token));
    }

    [Fact]
    public async Task SendAsync_DelayLeavesTooLittleBudgetForAnAttempt_ReturnsTheResponseInstead()
    {
        using var h = Create(o => o.Deadline = TimeSpan.FromMilliseconds(2030));
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable, r => r.Headers.Add("Retry-After", "2")).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().GetAsync("/"); // 30 ms would be left after the wait: not worth an attempt

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_Backoff_IsFullJitterOfExponentialCap()
    {
        using var h = Create(o => o.Retry.BaseDelay = TimeSpan.FromMilliseconds(200), jitter: 0.5);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.OK);
        var send = h.CreateClient().GetAsync("/");

        // The stub answers at once, so no attempt ever arms its timer: the only timers are the backoffs.
        Assert.Equal(TimeSpan.FromMilliseconds(100), await h.Clock.NextTimerAsync()); // 0.5 * 200 ms
        h.Clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromMilliseconds(200), await h.Clock.NextTimerAsync()); // 0.5 * 400 ms
        h.Clock.Advance(TimeSpan.FromMilliseconds(200));

        using var response = await send;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_BackoffDoesNotFitTheBudget_ReturnsLastResponseAtOnce()
    {
        using var h = Create(
            o =>
            {
                o.Deadline = o.AttemptTimeout = TimeSpan.FromSeconds(1);
                o.Retry.BaseDelay = o.Retry.MaxDelay = TimeSpan.FromSeconds(2);
            },
            jitter: 0.9);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable);

        using var response = await h.CreateClient().GetAsync("/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_BackoffDoesNotFitAfterNetworkFailure_RethrowsIt()
    {
        using var h = Create(
            o =>
            {
                o.Deadline = o.AttemptTimeout = TimeSpan.FromSeconds(1);
                o.Retry.BaseDelay = o.Retry.MaxDelay = TimeSpan.FromSeconds(2);
            },
            jitter: 0.9);
        h.Stub.ThenThrow(new HttpRequestException(HttpRequestError.ConnectionError, "refused"));

        await Assert.ThrowsAsync<HttpRequestException>(() => h.CreateClient().GetAsync("/"));
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_RetryDisabled_SendsOnce()
    {
        using var h = Create(o => o.Retry.Enabled = false);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable);

        using var response = await h.CreateClient().GetAsync("/");

        Assert.Equal(1, h.Stub.CallCount);
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("HEAD")]
    [InlineData("OPTIONS")]
    public async Task SendAsync_IdempotentMethods_AreRetriedWithoutKey(string method)
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), "/"));

        Assert.Equal(2, h.Stub.CallCount);
        Assert.DoesNotContain("Idempotency-Key", h.Stub.Calls[0].Headers.Keys);
    }

    [Fact]
    public async Task SendAsync_PostWithoutKeyAndIdempotencyOff_IsSentExactlyOnce()
    {
        using var h = Create(o => o.Idempotency.Enabled = false);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable);

        using var response = await h.CreateClient().PostAsync("/", new StringContent("charge"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_PostWithCallerKeyAndIdempotencyOff_IsRetried()
    {
        using var h = Create(o => o.Idempotency.Enabled = false);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.OK);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("charge") };
        request.Headers.Add("Idempotency-Key", "caller-key-1");

        using var response = await h.CreateClient().SendAsync(request);

        Assert.Equal(2, h.Stub.CallCount);
        Assert.All(h.Stub.Calls, c => Assert.Equal("caller-key-1", c.Headers["Idempotency-Key"]));
    }

    [Fact]
    public async Task SendAsync_StringContent_EveryAttemptSendsTheSameBody()
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().PostAsync("/", new StringContent("{\"amount\":42}", Encoding.UTF8, "application/json"));

        Assert.Equal(3, h.Stub.CallCount);
        Assert.All(h.Stub.Calls, c => Assert.Equal("{\"amount\":42}", Encoding.UTF8.GetString(c.Body!)));
    }

    [Fact]
    public async Task SendAsync_ForwardOnlyStreamOfUnknownLength_IsSentOnceNeverFailsWithConsumedStream()
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().PostAsync("/", new StreamContent(new ForwardOnlyStream("payload"u8.ToArray())));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_ForwardOnlyStreamOfKnownLengthWithinLimit_IsBufferedAndReplayed()
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.OK);
        var content = new StreamContent(new ForwardOnlyStream("payload"u8.ToArray()));
        content.Headers.ContentLength = 7;

        using var response = await h.CreateClient().PostAsync("/", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Stub.CallCount);
        Assert.All(h.Stub.Calls, c => Assert.Equal("payload", Encoding.UTF8.GetString(c.Body!)));
    }

    [Fact]
    public async Task SendAsync_StreamLargerThanBufferLimit_IsSentOnce()
    {
        using var h = Create(o => o.Retry.MaxRequestBufferBytes = 4);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.OK);
        var content = new StreamContent(new ForwardOnlyStream("payload"u8.ToArray()));
        content.Headers.ContentLength = 7;

        using var response = await h.CreateClient().PostAsync("/", content);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_BodyThatCannotBeReplayed_IsReportedOncePerClientAtInformation()
    {
        var logs = new CapturingLoggerProvider();
        using var h = new ChainHarness(o => o.Retry.BaseDelay = TimeSpan.Zero, logs: logs);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable);
        var client = h.CreateClient();

        using (await client.PostAsync("/", new StreamContent(new ForwardOnlyStream("one"u8.ToArray()))))
        using (await client.PostAsync("/", new StreamContent(new ForwardOnlyStream("two"u8.ToArray()))))
        {
        }

        Assert.Equal(2, h.Stub.CallCount); // each sent once
        var entry = Assert.Single(logs.Entries, e => e.EventId.Name == "RequestBodyNotReplayable");
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, entry.Level);
        Assert.Contains("a POST request's body cannot be sent twice", entry.Message, StringComparison.Ordinal);
    }

    /// <summary>A stream that can be read once, front to back, like a network or pipe stream.</summary>
    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(count, data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
