using System.Net;
using System.Text;
using Http.Resilience.IntegrationTests.Helpers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Http.Resilience.IntegrationTests;

/// <summary>Behaviours 5 and 6 of the foundation issue: POST paths, keys and bodies, as the server saw them.</summary>
public class IdempotencyTests
{
    private static void Script(WireMock.Server.WireMockServer server, params int[] statuses)
    {
        for (var i = 0; i < statuses.Length; i++)
        {
            var provider = server.Given(Request.Create().WithPath("/charges").UsingPost()).InScenario("charges");
            provider = i == 0 ? provider : provider.WhenStateIs($"s{i}");
            if (i < statuses.Length - 1)
            {
                provider = provider.WillSetStateTo($"s{i + 1}");
            }

            provider.RespondWith(Response.Create().WithStatusCode(statuses[i]).WithBody("charge response"));
        }
    }

    [Fact]
    public async Task Post_503_503_201_EveryAttemptCarriesTheSameKeyAndBody()
    {
        using var server = Mock.Start();
        Script(server, 503, 503, 201);
        using var clients = new Clients(server.BaseAddress(), o => o.Retry.BaseDelay = TimeSpan.FromMilliseconds(5));

        using var response = await clients.Create().PostAsync("/charges", new StringContent("{\"amount\":4200}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var requests = server.LogEntries.Select(e => e.RequestMessage).ToList();
        Assert.Equal(3, requests.Count);
        var keys = requests.Select(r => r.Headers!["Idempotency-Key"].Single()).Distinct().ToList();
        Assert.Single(keys);
        Assert.True(Guid.TryParse(keys[0], out _));
        Assert.All(requests, r => Assert.Equal("{\"amount\":4200}", r.Body));
    }

    [Fact]
    public async Task Post_CallerKey_IsKeptOnEveryAttempt()
    {
        using var server = Mock.Start();
        Script(server, 500, 200);
        using var clients = new Clients(server.BaseAddress(), o => o.Retry.BaseDelay = TimeSpan.Zero);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/charges") { Content = new StringContent("x") };
        request.Headers.Add("Idempotency-Key", "order-77");

        using var response = await clients.Create().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.All(server.LogEntries, e => Assert.Equal("order-77", e.RequestMessage.Headers!["Idempotency-Key"].Single()));
        Assert.Equal(2, server.LogEntries.Count());
    }

    [Fact]
    public async Task Post_WithoutKeyAndIdempotencyOff_IsSentAtMostOnce()
    {
        using var server = Mock.Start();
        Script(server, 503, 200);
        using var clients = new Clients(server.BaseAddress(), o =>
        {
            o.Idempotency.Enabled = false;
            o.Retry.BaseDelay = TimeSpan.Zero;
        });

        using var response = await clients.Create().PostAsync("/charges", new StringContent("x"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var entry = Assert.Single(server.LogEntries);
        Assert.False(entry.RequestMessage.Headers!.ContainsKey("Idempotency-Key"));
    }

    [Fact]
    public async Task Post_WithoutKeyAndIdempotencyOff_ConnectionResetIsNotRetried()
    {
        await using var server = await LoopbackServer.StartAsync(async (ctx, _) =>
        {
            await ctx.Request.Body.CopyToAsync(Stream.Null);
            ctx.Abort(); // did the charge go through? the client cannot know, so it must not send it again
        });
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Idempotency.Enabled = false;
            o.Retry.BaseDelay = TimeSpan.Zero;
        });

        await Assert.ThrowsAsync<HttpRequestException>(() => clients.Create().PostAsync("/charges", new StringContent("x")));

        Assert.Equal(1, server.Hits);
    }

    [Fact]
    public async Task Post_WithAutoKey_ConnectionResetIsRetriedWithTheSameKey()
    {
        var keys = new System.Collections.Concurrent.ConcurrentBag<string>();
        await using var server = await LoopbackServer.StartAsync(async (ctx, n) =>
        {
            keys.Add(ctx.Request.Headers["Idempotency-Key"].ToString());
            await ctx.Request.Body.CopyToAsync(Stream.Null);
            if (n == 1)
            {
                ctx.Abort();
                return;
            }

            ctx.Response.StatusCode = 201;
        });
        using var clients = new Clients(server.BaseAddress, o => o.Retry.BaseDelay = TimeSpan.Zero);

        using var response = await clients.Create().PostAsync("/charges", new StringContent("x"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(2, server.Hits);
        Assert.Single(keys.Distinct());
        Assert.False(string.IsNullOrEmpty(keys.First()));
    }

    [Fact]
    public async Task Post_ForwardOnlyStreamBody_IsSentOnceWithoutStreamConsumedError()
    {
        using var server = Mock.Start();
        Script(server, 503, 200);
        using var clients = new Clients(server.BaseAddress(), o => o.Retry.BaseDelay = TimeSpan.Zero);
        var pipe = new System.IO.Pipelines.Pipe();
        await pipe.Writer.WriteAsync("streamed body"u8.ToArray());
        await pipe.Writer.CompleteAsync();

        using var response = await clients.Create().PostAsync("/charges", new StreamContent(pipe.Reader.AsStream()));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var entry = Assert.Single(server.LogEntries);
        Assert.Equal("streamed body", entry.RequestMessage.Body);
    }

    [Fact]
    public async Task Patch_GetsAKeyAndIsRetried()
    {
        using var server = Mock.Start();
        server.Given(Request.Create().WithPath("/items").UsingPatch()).InScenario("p").WillSetStateTo("ok").RespondWith(Response.Create().WithStatusCode(504));
        server.Given(Request.Create().WithPath("/items").UsingPatch()).InScenario("p").WhenStateIs("ok").RespondWith(Response.Create().WithStatusCode(204));
        using var clients = new Clients(server.BaseAddress(), o => o.Retry.BaseDelay = TimeSpan.Zero);

        using var response = await clients.Create().PatchAsync("/items", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(2, server.LogEntries.Select(e => e.RequestMessage.Headers!["Idempotency-Key"].Single()).Count());
        Assert.Single(server.LogEntries.Select(e => e.RequestMessage.Headers!["Idempotency-Key"].Single()).Distinct());
    }
}
