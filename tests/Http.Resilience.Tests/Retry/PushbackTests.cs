using System.Net;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests;

/// <summary>What a dependency may say about retrying: should-retry headers, idempotency-key conflicts, attempt numbers.</summary>
public class PushbackTests
{
    private static ChainHarness Create(Action<HttpResilienceOptions>? configure = null)
        => new(o =>
        {
            o.Retry.BaseDelay = TimeSpan.Zero;
            configure?.Invoke(o);
        });

    [Theory]
    [InlineData("X-Should-Retry")]
    [InlineData("Stripe-Should-Retry")]
    public async Task ShouldRetryFalse_On503_IsNeverRetried(string header)
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable, r => r.Headers.Add(header, "false")).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().GetAsync("/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task ShouldRetryTrue_On409_IsRetried()
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.Conflict, r => r.Headers.Add("Stripe-Should-Retry", "true")).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().PutAsync("/", new StringContent("x"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Stub.CallCount);
    }

    [Fact]
    public async Task KeyedPost_409StillProcessing_IsRetriedWithTheSameKey()
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.Conflict).ThenStatus(HttpStatusCode.Created);

        using var response = await h.CreateClient().PostAsync("/", new StringContent("x"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(2, h.Stub.CallCount);
        Assert.Equal(h.Stub.Calls[0].Headers["Idempotency-Key"], h.Stub.Calls[1].Headers["Idempotency-Key"]);
    }

    [Fact]
    public async Task Put_409WithoutKey_IsAConflictNotRetried()
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.Conflict).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().PutAsync("/", new StringContent("x"));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task KeyedPost_422KeyReusedWithAnotherBody_IsNeverRetried()
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.UnprocessableEntity).ThenStatus(HttpStatusCode.Created);

        using var response = await h.CreateClient().PostAsync("/", new StringContent("x"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task MalformedShouldRetryHeader_IsIgnored()
    {
        using var h = Create();
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable, r => r.Headers.TryAddWithoutValidation("X-Should-Retry", "perhaps")).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task RetryPropagation_EachAttemptCarriesItsNumber()
    {
        using var h = Create(o => o.RetryPropagation.Enabled = true);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.BadGateway).ThenStatus(HttpStatusCode.OK);

        using var response = await h.CreateClient().GetAsync("/");

        Assert.Equal(["1", "2", "3"], h.Stub.Calls.Select(c => c.Headers["X-Attempt-Count"]));
    }

    [Fact]
    public async Task RetryPropagation_OffByDefault()
    {
        using var h = Create();
        using var response = await h.CreateClient().GetAsync("/");

        Assert.False(h.Stub.Calls[0].Headers.ContainsKey("X-Attempt-Count"));
    }
}
