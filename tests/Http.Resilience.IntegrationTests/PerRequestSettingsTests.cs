using System.Collections.Concurrent;
using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;

namespace Http.Resilience.IntegrationTests;

/// <summary>Settings for one request over real HTTP (Kestrel on 127.0.0.1): each one changes that request only.</summary>
public class PerRequestSettingsTests
{
    private const string AttemptHeader = "X-Attempt-Count";

    private static Task Status(HttpContext context, HttpStatusCode status)
    {
        context.Response.StatusCode = (int)status;
        return context.Response.WriteAsync(status.ToString());
    }

    [Fact]
    public async Task HealthProbe_WithRetriesOff_IsSentOnce_WhileTheClientsOtherCallsRetry()
    {
        await using var server = await LoopbackServer.StartAsync((context, _) => Status(context, HttpStatusCode.ServiceUnavailable));
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Retry.MaxRetries = 3;
            o.Retry.BaseDelay = TimeSpan.FromMilliseconds(1);
        });
        var client = clients.Create();
        using var probe = new HttpRequestMessage(HttpMethod.Get, "/health");
        probe.SetResilienceMaxRetries(0);

        using (var response = await client.SendAsync(probe))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        Assert.Equal(1, server.Hits);
        using (await client.GetAsync("/orders"))
        {
        }

        Assert.Equal(1 + 4, server.Hits);
    }

    [Fact]
    public async Task LowerRetryCount_CapsTheAttempts()
    {
        await using var server = await LoopbackServer.StartAsync((context, _) => Status(context, HttpStatusCode.ServiceUnavailable));
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Retry.MaxRetries = 3;
            o.Retry.BaseDelay = TimeSpan.FromMilliseconds(1);
        });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/orders");
        request.SetResilienceMaxRetries(1);

        using var response = await clients.Create().SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(2, server.Hits);
    }

    [Theory]
    [InlineData("retries off")]
    [InlineData("hedging off")]
    public async Task SlowAttempt_NoHedgedCopy_WhenTheRequestSaysSo(string setting)
    {
        await using var server = await LoopbackServer.StartAsync(async (context, _) =>
        {
            if (context.Request.Headers[AttemptHeader] == "1")
            {
                await LoopbackServer.DelayAsync(context, TimeSpan.FromMilliseconds(1500)); // writes "late": time enough for a copy to win
                return;
            }

            await context.Response.WriteAsync("copy");
        });
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Deadline = TimeSpan.FromSeconds(20);
            o.AttemptTimeout = TimeSpan.FromSeconds(10); // the slow first answer is never an attempt timeout
            o.Hedging.Enabled = true;
            o.Hedging.Delay = TimeSpan.FromMilliseconds(20);
            o.RetryPropagation.Enabled = true; // each copy says which it is: the server keeps the first one waiting
        });
        var client = clients.Create();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/report");
        if (setting == "retries off")
        {
            request.SetResilienceMaxRetries(0);
        }
        else
        {
            request.DisableResilienceHedging();
        }

        using (var response = await client.SendAsync(request))
        {
            Assert.Equal("late", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(1, server.Hits);
        Assert.Equal("copy", await client.GetStringAsync("/report")); // the client's other calls are still hedged
        await server.WaitForHitsAsync(3); // the slow first copy and the one that won
    }

    [Fact]
    public async Task NightlyExport_ADeadlineLongerThanTheClients_Completes()
    {
        await using var server = await LoopbackServer.StartAsync(async (context, _) =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(2500), context.RequestAborted);
            await context.Response.WriteAsync("export");
        });
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Deadline = TimeSpan.FromSeconds(1);
            o.MaxRequestDeadline = TimeSpan.FromSeconds(30);
        });
        var client = clients.Create();
        using var export = new HttpRequestMessage(HttpMethod.Get, "/export");
        export.SetResilienceDeadline(TimeSpan.FromSeconds(20));
        export.SetResilienceAttemptTimeout(TimeSpan.FromSeconds(20));

        // Read to the end (ResponseContentRead): HttpClient.Timeout, set from MaxRequestDeadline, is not what ends it.
        using (var response = await client.SendAsync(export, HttpCompletionOption.ResponseContentRead))
        {
            Assert.Equal("export", await response.Content.ReadAsStringAsync());
        }

        var ex = await Assert.ThrowsAsync<DeadlineExceededException>(() => client.GetAsync("/export")); // the client's own 1 s
        Assert.Equal(TimeSpan.FromSeconds(1), ex.Deadline);
    }

    [Fact]
    public async Task Export_ADeadlineBeyondMaxRequestDeadline_IsRefused_AndNothingIsSent()
    {
        await using var server = await LoopbackServer.StartAsync((context, _) => context.Response.WriteAsync("export"));
        using var clients = new Clients(server.BaseAddress, o => o.Deadline = TimeSpan.FromSeconds(1));
        using var export = new HttpRequestMessage(HttpMethod.Get, "/export");
        export.SetResilienceDeadline(TimeSpan.FromSeconds(60));

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => clients.Create().SendAsync(export));

        Assert.Contains($"HttpClient '{Clients.Name}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxRequestDeadline", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Hits);
    }

    [Fact]
    public async Task ShortDeadline_EndsTheRequestWithItsOwnDeadline()
    {
        await using var server = await LoopbackServer.StartAsync((context, _) => LoopbackServer.DelayAsync(context, TimeSpan.FromSeconds(10)));
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Deadline = TimeSpan.FromSeconds(20);
            o.AttemptTimeout = TimeSpan.FromSeconds(20);
        });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/lookup");
        request.SetResilienceDeadline(TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<DeadlineExceededException>(() => clients.Create().SendAsync(request));

        Assert.Equal(TimeSpan.FromSeconds(1), ex.Deadline);
        Assert.Contains("the request's own", ex.Message, StringComparison.Ordinal);
        await server.WaitForHitsAsync(1); // it was sent: one attempt, which the request's own second ended
    }

    [Fact]
    public async Task ShortAttemptTimeout_CutsTheSlowAttempt_AndTheRetryAnswers()
    {
        await using var server = await LoopbackServer.StartAsync((context, n) => n == 1
            ? LoopbackServer.DelayAsync(context, TimeSpan.FromSeconds(10))
            : context.Response.WriteAsync("second"));
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Deadline = TimeSpan.FromSeconds(20);
            o.AttemptTimeout = TimeSpan.FromSeconds(15);
            o.Retry.MaxRetries = 1;
            o.Retry.BaseDelay = TimeSpan.Zero;
        });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/lookup");
        request.SetResilienceAttemptTimeout(TimeSpan.FromSeconds(1));

        using var response = await clients.Create().SendAsync(request);

        Assert.Equal("second", await response.Content.ReadAsStringAsync()); // with the client's 15 s, the first would have answered "late"
        Assert.Equal(2, server.Hits);
    }

    [Fact]
    public async Task IdempotentPost_WithoutAKey_IsRetriedWithTheSameBody_AnUnmarkedOneIsNot()
    {
        var seen = new ConcurrentQueue<(string Body, bool HasKey)>();
        await using var server = await LoopbackServer.StartAsync(async (context, n) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            seen.Enqueue((await reader.ReadToEndAsync(), context.Request.Headers.ContainsKey("Idempotency-Key")));
            await Status(context, n <= 2 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK);
        });
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Idempotency.Enabled = false; // this dependency knows no keys
            o.Retry.BaseDelay = TimeSpan.FromMilliseconds(1);
        });
        var client = clients.Create();

        using (var unmarked = await client.PostAsync("/search", new StringContent("{\"q\":\"shoes\"}")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unmarked.StatusCode);
        }

        Assert.Equal(1, server.Hits); // sent at most once
        using var search = new HttpRequestMessage(HttpMethod.Post, "/search") { Content = new StringContent("{\"q\":\"shoes\"}") };
        search.SetResilienceIdempotent();
        using (var marked = await client.SendAsync(search))
        {
            Assert.Equal(HttpStatusCode.OK, marked.StatusCode);
        }

        Assert.Equal(3, server.Hits);
        Assert.All(seen, s => Assert.Equal(("{\"q\":\"shoes\"}", false), s));
    }

    [Fact]
    public async Task FallbackOff_TheCallerSeesTheRealError_OthersGetTheFallback()
    {
        await using var server = await LoopbackServer.StartAsync((context, _) => Status(context, HttpStatusCode.ServiceUnavailable));
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Retry.Enabled = false;
            o.Fallback.Enabled = true;
            o.Fallback.UseResponse((_, _) => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("fallback") });
        });
        var client = clients.Create();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/prices");
        request.DisableResilienceFallback();

        using var real = await client.SendAsync(request);
        using var served = await client.GetAsync("/prices");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, real.StatusCode);
        Assert.Null(real.GetFallbackInfo());
        Assert.Equal("fallback", await served.Content.ReadAsStringAsync());
        Assert.NotNull(served.GetFallbackInfo());
        Assert.Equal(2, server.Hits);
    }

    [Fact]
    public async Task ResponseBufferingOff_TheBodyStreamsAsItArrives()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(async (context, _) =>
        {
            await context.Response.WriteAsync("first\n");
            await context.Response.Body.FlushAsync();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
            await context.Response.WriteAsync("second\n");
        });
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.ResponseBuffering.Enabled = true; // would hold the response until the body ended, and time the attempt out
            o.AttemptTimeout = TimeSpan.FromSeconds(5);
        });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/download");
        request.DisableResilienceResponseBuffering();

        using var response = await clients.Create().SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TimeSpan.FromSeconds(15));
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("first", await reader.ReadLineAsync());
        release.TrySetResult();
        Assert.Equal("second", await reader.ReadLineAsync());
        Assert.Equal(1, server.Hits);
    }

    [Fact]
    public async Task EverySetting_StillWaitsItsTurnAtTheBulkhead()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(async (context, _) =>
        {
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
            await context.Response.WriteAsync("ok");
        });
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Bulkhead.MaxConcurrency = 1;
            o.Bulkhead.MaxQueue = 0;
            o.MaxRequestDeadline = TimeSpan.FromSeconds(30);
        });
        var client = clients.Create();
        var first = client.GetStringAsync("/slot");
        await server.FirstRequestArrived.Task.WaitAsync(TimeSpan.FromSeconds(15));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/slot") { Content = new StringContent("x") };
        request.SetResilienceDeadline(TimeSpan.FromSeconds(30));
        request.SetResilienceAttemptTimeout(TimeSpan.FromSeconds(30));
        request.SetResilienceMaxRetries(0);
        request.SetResilienceIdempotent();
        request.DisableResilienceFallback();
        request.DisableResilienceHedging();
        request.DisableResilienceResponseBuffering();

        await Assert.ThrowsAsync<BulkheadRejectedException>(() => client.SendAsync(request));

        release.TrySetResult();
        Assert.Equal("ok", await first);
        Assert.Equal(1, server.Hits);
    }
}
