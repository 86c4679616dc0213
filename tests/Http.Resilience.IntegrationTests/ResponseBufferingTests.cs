using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;

namespace Http.Resilience.IntegrationTests;

/// <summary>
/// Response bodies read inside the attempt, over real HTTP: a Kestrel endpoint that stalls after the headers and one that
/// resets mid-body. <c>GetStringAsync</c> reads the body after the chain has returned, so without buffering neither is retried.
/// </summary>
public class ResponseBufferingTests
{
    private const string Body = "the whole body, as the dependency meant to send it";

    private static void Buffer(HttpResilienceOptions o)
    {
        o.Deadline = TimeSpan.FromSeconds(8);
        o.AttemptTimeout = TimeSpan.FromMilliseconds(500);
        o.Retry.BaseDelay = TimeSpan.FromMilliseconds(10);
        o.ResponseBuffering.Enabled = true;
    }

    /// <summary>The first request sends its headers and half its body, then nothing until the client gives up.</summary>
    private static async Task StallFirst(HttpContext context, int n)
    {
        if (n > 1)
        {
            await context.Response.WriteAsync(Body);
            return;
        }

        await context.Response.WriteAsync(Body[..10]);
        await context.Response.Body.FlushAsync();
        await LoopbackServer.DelayAsync(context, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task StalledBody_IsAnAttemptTimeout_AndTheRetryGetsTheWholeBody()
    {
        await using var server = await LoopbackServer.StartAsync(StallFirst);
        using var clients = new Clients(server.BaseAddress, Buffer);

        var body = await clients.Create().GetStringAsync("/report");

        Assert.Equal(Body, body);
        Assert.Equal(2, server.Hits);
    }

    [Fact]
    public async Task WithoutBuffering_AStalledBodyIsNotRetried()
    {
        // The control for the test above: the same endpoint, buffering off. The body is read after the chain has returned,
        // so the stall runs into HttpClient.Timeout (the deadline plus a second) and nothing retries it.
        await using var server = await LoopbackServer.StartAsync(StallFirst);
        using var clients = new Clients(server.BaseAddress, o =>
        {
            Buffer(o);
            o.Deadline = TimeSpan.FromSeconds(1);
            o.ResponseBuffering.Enabled = false;
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => clients.Create().GetStringAsync("/report"));
        Assert.Equal(1, server.Hits);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BodyCutShort_IsANetworkFailure_AndTheRetryGetsTheWholeBody(bool lengthKnown)
    {
        await using var server = await LoopbackServer.StartAsync(async (context, n) =>
        {
            if (n > 1)
            {
                await context.Response.WriteAsync(Body);
                return;
            }

            if (lengthKnown)
            {
                context.Response.ContentLength = Body.Length;
            }

            await context.Response.WriteAsync(Body[..10]);
            await context.Response.Body.FlushAsync();
            context.Abort(); // the connection is reset mid-body
        });
        using var clients = new Clients(server.BaseAddress, Buffer);

        var body = await clients.Create().GetStringAsync("/report");

        Assert.Equal(Body, body);
        Assert.Equal(2, server.Hits);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BodyOverTheCap_IsLeftStreaming_AndArrivesWhole(bool lengthKnown)
    {
        var payload = new byte[200_000];
        Random.Shared.NextBytes(payload);
        await using var server = await LoopbackServer.StartAsync(async (context, _) =>
        {
            context.Response.ContentType = "application/x-report";
            if (lengthKnown)
            {
                context.Response.ContentLength = payload.Length;
            }

            for (var offset = 0; offset < payload.Length; offset += 7_000)
            {
                await context.Response.Body.WriteAsync(payload.AsMemory(offset, Math.Min(7_000, payload.Length - offset)));
                await context.Response.Body.FlushAsync();
            }
        });
        using var clients = new Clients(server.BaseAddress, o =>
        {
            Buffer(o);
            o.ResponseBuffering.MaxBytes = 50_000;
        });

        using var response = await clients.Create().GetAsync("/download", HttpCompletionOption.ResponseHeadersRead);
        var received = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(payload, received);
        Assert.Equal("application/x-report", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task BodyWithinTheCap_KeepsItsContentHeaders()
    {
        await using var server = await LoopbackServer.StartAsync(async (context, _) =>
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync("{\"ok\":true}"); // chunked: no Content-Length
        });
        using var clients = new Clients(server.BaseAddress, Buffer);

        using var response = await clients.Create().GetAsync("/json", HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{\"ok\":true}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task EventStream_IsNotRead_TheFirstEventArrivesWhileTheStreamStaysOpen()
    {
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: first\n\n");
            await context.Response.Body.FlushAsync();
            await LoopbackServer.DelayAsync(context, TimeSpan.FromSeconds(60)); // the stream stays open
            ended.TrySetResult();
        });
        using var clients = new Clients(server.BaseAddress, Buffer);

        using var response = await clients.Create().GetAsync("/events", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal("data: first", await reader.ReadLineAsync());
        Assert.Equal(1, server.Hits); // not timed out and retried while an attempt waited for its end
        response.Dispose();
        await ended.Task.WaitAsync(TimeSpan.FromSeconds(15)); // disposing the response closed the stream
    }
}
