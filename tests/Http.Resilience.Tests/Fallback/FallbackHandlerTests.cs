using System.Net;
using System.Text;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests;

public class FallbackHandlerTests
{
    private static ChainHarness Create(Action<HttpResilienceOptions>? configure = null, CapturingLoggerProvider? logs = null)
        => new(
            o =>
            {
                o.Fallback.Enabled = true;
                o.Retry.BaseDelay = TimeSpan.Zero;
                o.CircuitBreaker.MinimumThroughput = 100;
                configure?.Invoke(o);
            },
            logs: logs);

    private static HttpResponseMessage Ok(string body)
        => new(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    [Fact]
    public async Task Get_FailsAfterAGoodResponse_ServesItStaleAndMarked()
    {
        var logs = new CapturingLoggerProvider();
        using var h = Create(logs: logs);
        h.Stub.Then((_, _) => Task.FromResult(Ok("[\"fresh\"]"))).ThenStatus(HttpStatusCode.ServiceUnavailable);
        var client = h.CreateClient();
        Assert.Equal("[\"fresh\"]", await client.GetStringAsync("/items"));
        h.Clock.Advance(TimeSpan.FromSeconds(42));

        using var response = await client.GetAsync("/items");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[\"fresh\"]", await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("stale; age=42", Assert.Single(response.Headers.GetValues("X-Resilience-Fallback")));
        Assert.Equal(new FallbackInfo(FallbackKind.Stale, FallbackReason.ServerError, TimeSpan.FromSeconds(42)), response.GetFallbackInfo());
        Assert.Equal(4, h.Stub.CallCount); // one good, then three attempts
        var log = Assert.Single(logs.Entries, e => e.EventId.Id == 8);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, log.Level);
        Assert.Contains("stale", log.Message, StringComparison.Ordinal);
        Assert.Contains("ServerError", log.Message, StringComparison.Ordinal);
        Assert.Contains("age 42 s", log.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("fresh", log.Message, StringComparison.Ordinal); // never a body in a log
    }

    [Fact]
    public async Task Get_CircuitOpen_ServesStaleWithoutAnyNetworkCall()
    {
        using var h = Create(o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.MinimumThroughput = 1;
        });
        h.Stub.Then((_, _) => Task.FromResult(Ok("v1"))).ThenStatus(HttpStatusCode.InternalServerError);
        var client = h.CreateClient();
        await client.GetStringAsync("/items");
        using (await client.GetAsync("/other")) { } // a 500 on another URL opens the circuit (no stale for it: served as is)

        using var response = await client.GetAsync("/items");

        Assert.Equal(FallbackReason.CircuitOpen, response.GetFallbackInfo()!.Value.Reason);
        Assert.Equal("v1", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, h.Stub.CallCount);
    }

    [Fact]
    public async Task Get_StalerThanMaxStaleness_IsNotServed()
    {
        using var h = Create(o => o.Fallback.MaxStaleness = TimeSpan.FromMinutes(1));
        h.Stub.Then((_, _) => Task.FromResult(Ok("old"))).ThenStatus(HttpStatusCode.BadGateway);
        var client = h.CreateClient();
        await client.GetStringAsync("/items");
        h.Clock.Advance(TimeSpan.FromSeconds(61));

        using var response = await client.GetAsync("/items");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Null(response.GetFallbackInfo());
        Assert.False(response.Headers.Contains("X-Resilience-Fallback"));
    }

    [Fact]
    public async Task Post_NeverGetsStale_ButCanGetTheDefault()
    {
        using var h = Create(o =>
        {
            o.Retry.Enabled = false;
            o.Fallback.UseResponse((request, failure) => request.Method == HttpMethod.Post
                ? new HttpResponseMessage(HttpStatusCode.Accepted) { Content = new StringContent($"pending ({failure.Reason})") }
                : null);
        });
        h.Stub.Then((_, _) => Task.FromResult(Ok("cached"))).ThenStatus(HttpStatusCode.ServiceUnavailable);
        var client = h.CreateClient();
        await client.GetStringAsync("/orders");

        using var response = await client.PostAsync("/orders", new StringContent("order"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("pending (ServerError)", await response.Content.ReadAsStringAsync());
        Assert.Equal("default", Assert.Single(response.Headers.GetValues("X-Resilience-Fallback")));
        Assert.Equal(new FallbackInfo(FallbackKind.Default, FallbackReason.ServerError, null), response.GetFallbackInfo());
    }

    [Fact]
    public async Task Post_NoDefault_FailureStaysLoud()
    {
        using var h = Create(o => o.Retry.Enabled = false);
        h.Stub.Then((_, _) => Task.FromResult(Ok("cached"))).ThenThrow(new HttpRequestException("refused"));
        var client = h.CreateClient();
        await client.GetStringAsync("/orders");

        await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync("/orders", new StringContent("order")));
    }

    [Fact]
    public async Task Get_4xxAndCallerCancellation_AreNeverReplaced()
    {
        var logs = new CapturingLoggerProvider();
        using var h = Create(o => o.Fallback.UseResponse((_, _) => new HttpResponseMessage(HttpStatusCode.OK)), logs);
        h.Stub.ThenStatus(HttpStatusCode.NotFound).ThenHang();
        var client = h.CreateClient();

        using (var notFound = await client.GetAsync("/items"))
        {
            Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
            Assert.Null(notFound.GetFallbackInfo());
        }

        using var cts = new CancellationTokenSource();
        var send = client.GetAsync("/items", HttpCompletionOption.ResponseHeadersRead, cts.Token);
        await h.Stub.WaitForCallsAsync(2);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 8); // no fallback was served, not even one thrown away
    }

    [Fact]
    public async Task Get_DeadlineSpent_ServesStale()
    {
        using var h = Create(o => o.Deadline = o.AttemptTimeout = TimeSpan.FromSeconds(1));
        h.Stub.Then((_, _) => Task.FromResult(Ok("v1"))).ThenHang();
        var client = h.CreateClient();
        await client.GetStringAsync("/items");

        var send = client.GetAsync("/items");
        await h.Stub.WaitForCallsAsync(2);
        h.Clock.Advance(TimeSpan.FromSeconds(1));

        using var response = await send;
        Assert.Equal(FallbackReason.DeadlineExceeded, response.GetFallbackInfo()!.Value.Reason);
    }

    [Fact]
    public async Task Disabled_ByDefault_NothingIsKeptOrServed()
    {
        using var h = new ChainHarness(o => o.Retry.Enabled = false);
        h.Stub.Then((_, _) => Task.FromResult(Ok("v1"))).ThenStatus(HttpStatusCode.ServiceUnavailable);
        var client = h.CreateClient();
        await client.GetStringAsync("/items");

        using var response = await client.GetAsync("/items");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(0, h.Registry.GetOrAddStaleCache(ChainHarness.ClientName).Count);
    }

    [Fact]
    public async Task Cache_IsBoundedInEntriesAndBytes()
    {
        using var h = Create(o =>
        {
            o.Fallback.MaxEntries = 2;
            o.Fallback.MaxBytes = 10;
            o.Fallback.MaxEntryBytes = 6;
        });
        h.Stub.Then((r, _) => Task.FromResult(Ok(r.RequestUri!.AbsolutePath.TrimStart('/'))));
        var client = h.CreateClient();
        var cache = h.Registry.GetOrAddStaleCache(ChainHarness.ClientName);

        await client.GetStringAsync("/aaaa");
        await client.GetStringAsync("/bbbb");
        Assert.Equal(2, cache.Count);
        await client.GetStringAsync("/cccc"); // third entry: the least recently used goes
        Assert.Equal(2, cache.Count);
        Assert.Null(cache.Get("http://127.0.0.1/aaaa"));
        await client.GetStringAsync("/dddddd"); // 4 + 6 bytes = 10: one more goes to stay within MaxBytes
        Assert.True(cache.Bytes <= 10);
        await client.GetStringAsync("/eeeeeee"); // 7 bytes: larger than MaxEntryBytes, not kept
        Assert.Null(cache.Get("http://127.0.0.1/eeeeeee"));
    }

    [Fact]
    public async Task Get_NoStoreResponse_IsNotKept()
    {
        using var h = Create();
        h.Stub.Then((_, _) =>
        {
            var ok = Ok("secret");
            ok.Headers.CacheControl = new System.Net.Http.Headers.CacheControlHeaderValue { NoStore = true };
            return Task.FromResult(ok);
        });

        await h.CreateClient().GetStringAsync("/me");

        Assert.Equal(0, h.Registry.GetOrAddStaleCache(ChainHarness.ClientName).Count);
    }
}
