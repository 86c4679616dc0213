using System.Net;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.Logging;

namespace Http.Resilience.Tests;

/// <summary>The log lines of the article "Failure Is Not an Option", structured, with stable event ids, at the level an operator needs.</summary>
public class LogTests
{
    private readonly CapturingLoggerProvider _logs = new();

    private (string Category, LogLevel Level, EventId EventId, string Message) Single(int eventId)
        => Assert.Single(_logs.Entries, e => e.EventId.Id == eventId);

    [Fact]
    public async Task AttemptTimedOut_IsDebugWithClientAttemptAndElapsed()
    {
        using var h = new ChainHarness(o => o.Retry.Enabled = false, logs: _logs);
        h.Stub.ThenHang();
        var send = h.CreateClient().GetAsync("/");
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAnyAsync<HttpResilienceException>(() => send);

        var log = Single(2);
        Assert.Equal("Http.Resilience", log.Category);
        Assert.Equal(LogLevel.Debug, log.Level);
        Assert.Equal("AttemptTimedOut", log.EventId.Name);
        Assert.Equal("HttpClient 'test': attempt 1 of 1 timed out after 2000 ms.", log.Message);
    }

    [Fact]
    public async Task CircuitTransitions_OpenedIsAnErrorWithCountsRatioAndBreak_ThenHalfOpenAndClosed()
    {
        using var h = new ChainHarness(
            o =>
            {
                o.Retry.Enabled = false;
                o.CircuitBreaker.MinimumThroughput = 2;
            },
            logs: _logs);
        h.Stub.ThenStatus(HttpStatusCode.InternalServerError).ThenStatus(HttpStatusCode.InternalServerError).ThenStatus(HttpStatusCode.OK);
        var client = h.CreateClient();
        using (await client.GetAsync("/")) { }
        using (await client.GetAsync("/")) { }

        var opened = Single(4);
        Assert.Equal(LogLevel.Error, opened.Level);
        Assert.Contains("HttpClient 'test': circuit OPENED for 00:00:01.5000000 (next probe at ", opened.Message, StringComparison.Ordinal);
        Assert.Contains(") after 2 failures in 2 requests (ratio 1.00)", opened.Message, StringComparison.Ordinal);
        Assert.EndsWith("; first break.", opened.Message, StringComparison.Ordinal);

        h.Clock.Advance(TimeSpan.FromSeconds(1.5));
        using (await client.GetAsync("/")) { }

        Assert.Equal(LogLevel.Information, Single(5).Level);
        Assert.Contains("HALF-OPEN", Single(5).Message, StringComparison.Ordinal);
        Assert.Equal(LogLevel.Information, Single(6).Level);
        Assert.Contains("CLOSED (recovered): the probe succeeded", Single(6).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BulkheadRejected_IsAWarningWithLimitActiveAndQueued()
    {
        using var h = new ChainHarness(o => o.Bulkhead.MaxConcurrency = 1, logs: _logs);
        h.Stub.ThenHang();
        var client = h.CreateClient();
        _ = client.GetAsync("/");
        await h.Stub.WaitForCallsAsync(1);
        await Assert.ThrowsAsync<BulkheadRejectedException>(() => client.GetAsync("/"));

        var log = Single(7);
        Assert.Equal(LogLevel.Warning, log.Level);
        Assert.Equal("HttpClient 'test': bulkhead full, request rejected (limit 1, active 1, queued 0).", log.Message);
    }

    [Fact]
    public async Task Logs_NeverCarryHeaderValuesOrBodies()
    {
        using var h = new ChainHarness(o => o.Retry.BaseDelay = TimeSpan.Zero, logs: _logs);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable, r => r.Content = new StringContent("server-secret-body"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("client-secret-body") };
        request.Headers.Add("Idempotency-Key", "key-secret-value");
        request.Headers.Add("Authorization", "Bearer token-secret");

        using var response = await h.CreateClient().SendAsync(request);

        Assert.Contains(_logs.Entries, e => e.Category == "Http.Resilience");
        Assert.All(_logs.Entries, e =>
        {
            Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
        });
    }
}
