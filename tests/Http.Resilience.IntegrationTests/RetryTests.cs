using System.Diagnostics;
using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Http.Resilience.IntegrationTests;

/// <summary>Behaviours 3, 4 and 5 of the foundation issue against WireMock.Net on 127.0.0.1.</summary>
public class RetryTests
{
    private static void Script(WireMock.Server.WireMockServer server, string method, params Func<IResponseBuilder>[] steps)
    {
        for (var i = 0; i < steps.Length; i++)
        {
            var state = i == 0 ? null : $"step{i}";
            var provider = server.Given(Request.Create().WithPath("/api").UsingMethod(method)).InScenario("script");
            provider = state is null ? provider : provider.WhenStateIs(state);
            if (i < steps.Length - 1)
            {
                provider = provider.WillSetStateTo($"step{i + 1}");
            }

            provider.RespondWith(steps[i]());
        }
    }

    private static IResponseBuilder Status(int status, string body = "a body that holds the connection until read or disposed")
        => Response.Create().WithStatusCode(status).WithBody(body);

    [Fact]
    public async Task Get_503_503_200_OnOneConnection_DoesNotHangAndReturnsOk()
    {
        using var server = Mock.Start();
        Script(server, "GET", () => Status(503), () => Status(503), () => Status(200, "ok"));
        using var clients = new Clients(server.BaseAddress(), o =>
        {
            o.Deadline = TimeSpan.FromSeconds(5);
            o.Retry.BaseDelay = TimeSpan.FromMilliseconds(10);
        }, maxConnectionsPerServer: 1);

        using var response = await clients.Create().GetAsync("/api");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        Assert.Equal(3, server.LogEntries.Count());
    }

    [Fact]
    public async Task Get_PersistentFailure_ReturnsTheLastResponseAfterMaxRetries()
    {
        using var server = Mock.Start();
        server.Given(Request.Create().WithPath("/api").UsingGet()).RespondWith(Status(502));
        using var clients = new Clients(server.BaseAddress(), o => o.Retry.BaseDelay = TimeSpan.FromMilliseconds(10));

        using var response = await clients.Create().GetAsync("/api");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(3, server.LogEntries.Count());
    }

    [Fact]
    public async Task Get_400_IsNeverRetried()
    {
        using var server = Mock.Start();
        server.Given(Request.Create().WithPath("/api").UsingGet()).RespondWith(Status(400));
        using var clients = new Clients(server.BaseAddress(), o => o.Retry.BaseDelay = TimeSpan.Zero);

        using var response = await clients.Create().GetAsync("/api");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Single(server.LogEntries);
    }

    [Fact]
    public async Task Get_ConnectionReset_IsRetried()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, n) =>
        {
            if (n == 1)
            {
                ctx.Abort(); // the connection is reset before any response
                return Task.CompletedTask;
            }

            return ctx.Response.WriteAsync("ok");
        });
        using var clients = new Clients(server.BaseAddress, o => o.Retry.BaseDelay = TimeSpan.Zero);

        using var response = await clients.Create().GetAsync("/api");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, server.Hits);
    }

    [Fact]
    public async Task Get_429WithRetryAfter_WaitsThenSucceeds()
    {
        using var server = Mock.Start();
        Script(server, "GET", () => Status(429).WithHeader("Retry-After", "1"), () => Status(200, "ok"));
        using var clients = new Clients(server.BaseAddress(), o => o.Retry.BaseDelay = TimeSpan.Zero);
        var watch = Stopwatch.StartNew();

        using var response = await clients.Create().GetAsync("/api");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(3));
        Assert.Equal(2, server.LogEntries.Count());
    }

    [Fact]
    public async Task Get_RetryAfterLongerThanAllowed_ReturnsTheThrottledResponseAtOnce()
    {
        using var server = Mock.Start();
        server.Given(Request.Create().WithPath("/api").UsingGet()).RespondWith(Status(429).WithHeader("Retry-After", "60"));
        using var clients = new Clients(server.BaseAddress(), o => o.Retry.BaseDelay = TimeSpan.Zero);

        using var response = await clients.Create().GetAsync("/api");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(60), response.Headers.RetryAfter?.Delta);
        Assert.Single(server.LogEntries);
    }

    [Fact]
    public async Task Get_RetryAfterThatDoesNotFitTheBudget_EndsRetriesWithinTheDeadline()
    {
        using var server = Mock.Start();
        server.Given(Request.Create().WithPath("/api").UsingGet()).RespondWith(Status(503).WithHeader("Retry-After", "1"));
        using var clients = new Clients(server.BaseAddress(), o =>
        {
            o.Deadline = TimeSpan.FromMilliseconds(1900);
            o.AttemptTimeout = TimeSpan.FromSeconds(1);
            o.Retry.MaxRetries = 5;
        });
        var watch = Stopwatch.StartNew();

        using var response = await clients.Create().GetAsync("/api");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromMilliseconds(1900) + TimeSpan.FromSeconds(1.5));
        Assert.Equal(2, server.LogEntries.Count()); // waited once (1 s), then 1 s more would not fit in the 0.9 s or less left
    }

    [Fact]
    public async Task Get_MalformedRetryAfter_FallsBackToBackoffAndNeverThrows()
    {
        using var server = Mock.Start();
        Script(server, "GET", () => Status(503).WithHeader("Retry-After", "tomorrow-ish"), () => Status(429).WithHeader("Retry-After", "-7"), () => Status(200, "ok"));
        using var clients = new Clients(server.BaseAddress(), o => o.Retry.BaseDelay = TimeSpan.FromMilliseconds(10));

        using var response = await clients.Create().GetAsync("/api");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, server.LogEntries.Count());
    }
}
