using System.Globalization;
using System.Net;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests;

public class RetryAfterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("0", 0)]
    [InlineData("1", 1)]
    [InlineData("120", 120)]
    [InlineData("2147483647", 2147483647)]
    public void TryParse_DeltaSeconds_IsTheDelay(string value, long seconds)
    {
        Assert.True(RetryAfterParser.TryParse(value, Now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(seconds), delay);
    }

    [Fact]
    public void TryParse_HttpDateInTheFuture_IsTheTimeUntilIt()
    {
        var value = Now.AddSeconds(90).ToString("r", CultureInfo.InvariantCulture);
        Assert.True(RetryAfterParser.TryParse(value, Now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(90), delay);
    }

    [Fact]
    public void TryParse_HttpDateInThePast_MeansNow()
    {
        Assert.True(RetryAfterParser.TryParse("Wed, 21 Oct 2015 07:28:00 GMT", Now, out var delay));
        Assert.Equal(TimeSpan.Zero, delay);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("-1")]
    [InlineData("-2147483648")]
    [InlineData("1.5")]
    [InlineData("soon")]
    [InlineData("99999999999999999999999")]
    [InlineData("Wed, 99 Foo 2015 07:28:00 GMT")]
    [InlineData("\u0000\u00ff")]
    public void TryParse_MalformedNegativeOrOverflowing_FallsBackWithoutThrowing(string? value)
    {
        Assert.False(RetryAfterParser.TryParse(value, Now, out var delay));
        Assert.Equal(TimeSpan.Zero, delay);
    }

    [Fact]
    public async Task SendAsync_503WithRetryAfter_WaitsExactlyThatLongInsteadOfBackoff()
    {
        using var h = new ChainHarness(jitter: 0.99);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable, r => r.Headers.Add("Retry-After", "1")).ThenStatus(HttpStatusCode.OK);
        var send = h.CreateClient().GetAsync("/");

        Assert.Equal(TimeSpan.FromSeconds(1), await h.Clock.NextTimerAsync());
        h.Clock.Advance(TimeSpan.FromSeconds(1));

        using var response = await send;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_429WithHttpDate_WaitsUntilThatDate()
    {
        using var h = new ChainHarness();
        var until = h.Clock.GetUtcNow().AddSeconds(3);
        h.Stub.ThenStatus(HttpStatusCode.TooManyRequests, r => r.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(until)).ThenStatus(HttpStatusCode.OK);
        var send = h.CreateClient().GetAsync("/");

        Assert.Equal(TimeSpan.FromSeconds(3), await h.Clock.NextTimerAsync());
        h.Clock.Advance(TimeSpan.FromSeconds(3));

        using var response = await send;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task SendAsync_RetryAfterAboveMaxRetryAfter_ReturnsTheResponseAsItCame()
    {
        using var h = new ChainHarness(o => o.Deadline = TimeSpan.FromMinutes(5));
        h.Stub.ThenStatus(HttpStatusCode.TooManyRequests, r => r.Headers.Add("Retry-After", "60")).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().GetAsync("/");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(60), response.Headers.RetryAfter!.Delta);
        Assert.False(((TrackingContent)response.Content).IsDisposed);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_RetryAfterBeyondTheBudget_ReturnsTheResponseAtOnce()
    {
        using var h = new ChainHarness(o => o.Deadline = TimeSpan.FromSeconds(5));
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable, r => r.Headers.Add("Retry-After", "8")).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().GetAsync("/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_RetryAfterInThePast_RetriesAtOnce()
    {
        using var h = new ChainHarness(jitter: 0.99);
        h.Stub.ThenStatus(HttpStatusCode.TooManyRequests, r => r.Headers.TryAddWithoutValidation("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().GetAsync("/"); // no timer to advance: a wait would hang this test

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Stub.CallCount);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-5")]
    [InlineData("99999999999999999999")]
    public async Task SendAsync_MalformedRetryAfter_FallsBackToBackoff(string value)
    {
        using var h = new ChainHarness(o => o.Retry.BaseDelay = TimeSpan.FromMilliseconds(400), jitter: 0.5);
        h.Stub.ThenStatus(HttpStatusCode.TooManyRequests, r => r.Headers.TryAddWithoutValidation("Retry-After", value)).ThenStatus(HttpStatusCode.OK);
        var send = h.CreateClient().GetAsync("/");

        Assert.Equal(TimeSpan.FromMilliseconds(200), await h.Clock.NextTimerAsync()); // backoff, not Retry-After
        h.Clock.Advance(TimeSpan.FromMilliseconds(200));

        using var response = await send;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
