using System.Net;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests;

public class IdempotencyKeyHandlerTests
{
    [Theory]
    [InlineData("POST")]
    [InlineData("PATCH")]
    public async Task SendAsync_PostOrPatch_GetsOneKeySharedByEveryAttempt(string method)
    {
        using var h = new ChainHarness();
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.BadGateway).ThenStatus(HttpStatusCode.OK);
        using var request = new HttpRequestMessage(new HttpMethod(method), "/") { Content = new StringContent("x") };

        using var response = await h.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, h.Stub.CallCount);
        var key = h.Stub.Calls[0].Headers["Idempotency-Key"];
        Assert.True(Guid.TryParse(key, out _));
        Assert.All(h.Stub.Calls, c => Assert.Equal(key, c.Headers["Idempotency-Key"]));
    }

    [Fact]
    public async Task SendAsync_TwoLogicalRequests_GetDifferentKeys()
    {
        using var h = new ChainHarness();
        var client = h.CreateClient();

        using var first = await client.PostAsync("/", new StringContent("a"));
        using var second = await client.PostAsync("/", new StringContent("b"));

        Assert.NotEqual(h.Stub.Calls[0].Headers["Idempotency-Key"], h.Stub.Calls[1].Headers["Idempotency-Key"]);
    }

    [Fact]
    public async Task SendAsync_CallerKey_IsKept()
    {
        using var h = new ChainHarness();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("x") };
        request.Headers.Add("Idempotency-Key", "order-1234");

        using var response = await h.CreateClient().SendAsync(request);

        Assert.Equal("order-1234", h.Stub.Calls[0].Headers["Idempotency-Key"]);
    }

    [Fact]
    public async Task SendAsync_BlankCallerKey_IsReplacedNotDoubled()
    {
        using var h = new ChainHarness();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("x") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", " ");

        using var response = await h.CreateClient().SendAsync(request);

        Assert.True(Guid.TryParse(h.Stub.Calls[0].Headers["Idempotency-Key"], out _));
    }

    [Fact]
    public async Task SendAsync_ConfiguredHeaderName_IsUsed()
    {
        using var h = new ChainHarness(o => o.Idempotency.HeaderName = "X-Request-Key");
        using var response = await h.CreateClient().PostAsync("/", new StringContent("x"));

        Assert.True(h.Stub.Calls[0].Headers.ContainsKey("X-Request-Key"));
        Assert.False(h.Stub.Calls[0].Headers.ContainsKey("Idempotency-Key"));
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task SendAsync_OtherMethods_GetNoKey(string method)
    {
        using var h = new ChainHarness();
        using var response = await h.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), "/"));

        Assert.False(h.Stub.Calls[0].Headers.ContainsKey("Idempotency-Key"));
    }

    [Fact]
    public async Task SendAsync_Disabled_AddsNoKey()
    {
        using var h = new ChainHarness(o => o.Idempotency.Enabled = false);
        using var response = await h.CreateClient().PostAsync("/", new StringContent("x"));

        Assert.False(h.Stub.Calls[0].Headers.ContainsKey("Idempotency-Key"));
    }
}
