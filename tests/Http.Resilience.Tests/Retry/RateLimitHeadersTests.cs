using System.Net;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests;

/// <summary>The waits a server names in rate-limit headers, read like <c>Retry-After</c>.</summary>
public class RateLimitHeadersTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static HttpResponseMessage Response(params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    }

    [Theory]
    [InlineData("\"default\";r=0;t=30", 30)]
    [InlineData("\"default\";r=5;t=30, \"burst\";r=0;t=2", 2)]
    [InlineData("\"a\";r=0;t=2, \"b\";r=0;t=7", 7)]
    [InlineData("\"default\";t=4;r=0", 4)]
    public void IetfDraft_ExhaustedPolicy_ResetIsTheWait(string value, int seconds)
    {
        using var response = Response(("RateLimit", value));
        Assert.True(RetryAfterParser.TryGetDelay(response, Now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(seconds), delay);
    }

    [Theory]
    [InlineData("\"default\";r=3;t=30")]
    [InlineData("\"default\";r=0")]
    [InlineData("garbage;;==;")]
    [InlineData("\"default\";r=0;t=-5")]
    public void IetfDraft_NothingExhaustedOrMalformed_NamesNoWait(string value)
    {
        using var response = Response(("RateLimit", value));
        Assert.False(RetryAfterParser.TryGetDelay(response, Now, out _));
    }

    [Fact]
    public void OlderDraft_RemainingZeroWithReset_IsTheWait()
    {
        using var response = Response(("RateLimit-Remaining", "0"), ("RateLimit-Reset", "12"));
        Assert.True(RetryAfterParser.TryGetDelay(response, Now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(12), delay);
    }

    [Fact]
    public void XRateLimitReset_DeltaSeconds_IsTheWait()
    {
        using var response = Response(("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "3"));
        Assert.True(RetryAfterParser.TryGetDelay(response, Now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(3), delay);
    }

    [Fact]
    public void XRateLimitReset_EpochSeconds_IsTheTimeUntilIt()
    {
        using var response = Response(("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", Now.AddSeconds(45).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(RetryAfterParser.TryGetDelay(response, Now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(45), delay);
    }

    [Theory]
    [InlineData("5", "3")]
    [InlineData("0", "soon")]
    [InlineData("none", "3")]
    public void XRateLimit_QuotaLeftOrMalformed_NamesNoWait(string remaining, string reset)
    {
        using var response = Response(("X-RateLimit-Remaining", remaining), ("X-RateLimit-Reset", reset));
        Assert.False(RetryAfterParser.TryGetDelay(response, Now, out _));
    }

    [Fact]
    public void RetryAfter_WinsOverTheRateLimitHeaders()
    {
        using var response = Response(("RateLimit", "\"default\";r=0;t=30"));
        response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(4));
        Assert.True(RetryAfterParser.TryGetDelay(response, Now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(4), delay);
    }

    [Fact]
    public async Task Chain_429WithAnExhaustedRateLimitPolicy_WaitsForItsReset()
    {
        using var h = new ChainHarness(o => o.Retry.BaseDelay = TimeSpan.Zero);
        h.Stub.ThenStatus(HttpStatusCode.TooManyRequests, r => r.Headers.TryAddWithoutValidation("RateLimit", "\"default\";r=0;t=3")).ThenStatus(HttpStatusCode.OK);
        var send = h.CreateClient().GetAsync("/");
        await h.Stub.WaitForCallsAsync(1);

        Assert.Equal(TimeSpan.FromSeconds(3), await h.Clock.NextTimerAsync()); // the wait the server named, not the backoff
        h.Clock.Advance(TimeSpan.FromSeconds(3));

        using var response = await send;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Stub.CallCount);
    }
}
