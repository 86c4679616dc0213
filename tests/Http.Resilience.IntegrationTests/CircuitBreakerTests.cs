using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Http.Resilience.IntegrationTests;

/// <summary>The circuit breaker over real HTTP: what it counts, failing fast, the single probe, isolation, rotation.</summary>
public class CircuitBreakerTests
{
    [Fact]
    public async Task FiveRequestBreakerWithThreeAttemptsPerRequest_TwoRequestsDoNotOpenIt()
    {
        using var server = Mock.Start();
        server.Given(Request.Create().WithPath("/pay").UsingGet()).RespondWith(Response.Create().WithStatusCode(500).WithBody("boom"));
        using var clients = new Clients(server.BaseAddress(), o =>
        {
            o.Retry.MaxRetries = 2;
            o.Retry.BaseDelay = TimeSpan.FromMilliseconds(5);
            o.CircuitBreaker.MinimumThroughput = 5;
            o.CircuitBreaker.FailureRatio = 0.5;
        });
        var client = clients.Create();

        using (await client.GetAsync("/pay")) { }
        using (await client.GetAsync("/pay")) { }
        Assert.Equal(6, server.LogEntries.Count()); // 2 user requests x 3 attempts

        using var third = await client.GetAsync("/pay"); // still closed: it reaches the server
        Assert.Equal(HttpStatusCode.InternalServerError, third.StatusCode);
        Assert.Equal(9, server.LogEntries.Count());
    }

    [Fact]
    public async Task OpenCircuit_MakesNoNetworkCall()
    {
        using var server = Mock.Start();
        server.Given(Request.Create().WithPath("/pay").UsingGet()).RespondWith(Response.Create().WithStatusCode(503).WithBody("down"));
        using var clients = new Clients(server.BaseAddress(), o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.MinimumThroughput = 2;
        });
        var client = clients.Create();
        using (await client.GetAsync("/pay")) { }
        using (await client.GetAsync("/pay")) { }

        for (var i = 0; i < 20; i++)
        {
            var ex = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync("/pay"));
            Assert.InRange(ex.RetryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        }

        Assert.Equal(2, server.LogEntries.Count());
    }

    [Fact]
    public async Task HalfOpen_ConcurrentCallers_ExactlyOneProbeReachesTheServer()
    {
        var releaseProbe = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(async (ctx, n) =>
        {
            if (n <= 2)
            {
                ctx.Response.StatusCode = 500;
                return;
            }

            await releaseProbe.Task; // the probe stays in flight until every other caller has been turned away
            await ctx.Response.WriteAsync("recovered");
        });
        using var clients = new Clients(server.BaseAddress, o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.MinimumThroughput = 2;
            o.CircuitBreaker.BreakDuration = TimeSpan.FromMilliseconds(500);
        });
        var client = clients.Create();
        using (await client.GetAsync("/")) { }
        using (await client.GetAsync("/")) { }
        var open = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync("/"));
        await Task.Delay(open.RetryAfter!.Value + TimeSpan.FromMilliseconds(50)); // real time: let the break end

        var callers = Enumerable.Range(0, 10).Select(_ => Task.Run(() => client.GetAsync("/"))).ToList();
        var rejected = 0;
        for (var i = 0; i < 200 && rejected < 9; i++)
        {
            await Task.Delay(50); // bounded: 10 s at most
            rejected = callers.Count(t => t.IsFaulted && t.Exception!.InnerException is CircuitOpenException);
        }

        Assert.Equal(9, rejected);
        Assert.Equal(3, server.Hits);
        releaseProbe.SetResult();
        var probe = await callers.Single(t => !t.IsFaulted);
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        using var after = await client.GetAsync("/"); // closed again
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task TwoNamedClients_EachHasItsOwnCircuit()
    {
        using var server = Mock.Start();
        server.Given(Request.Create().WithPath("/pay").UsingGet()).RespondWith(Response.Create().WithStatusCode(500));
        server.Given(Request.Create().WithPath("/items").UsingGet()).RespondWith(Response.Create().WithBody("[]"));
        var services = new ServiceCollection();
        services.AddHttpClient("payment", c => c.BaseAddress = server.BaseAddress()).AddHttpResilience(o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.MinimumThroughput = 1;
        });
        services.AddHttpClient("catalog", c => c.BaseAddress = server.BaseAddress()).AddHttpResilience();
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        using (await factory.CreateClient("payment").GetAsync("/pay")) { }
        await Assert.ThrowsAsync<CircuitOpenException>(() => factory.CreateClient("payment").GetAsync("/pay"));

        using var items = await factory.CreateClient("catalog").GetAsync("/items");
        Assert.Equal(HttpStatusCode.OK, items.StatusCode);
        var circuits = provider.GetRequiredService<IHttpResilienceMonitor>().GetCircuitBreakers().ToDictionary(c => c.ClientName, c => c.State);
        Assert.Equal(CircuitState.Open, circuits["payment"]);
        Assert.Equal(CircuitState.Closed, circuits["catalog"]);
    }

    [Fact]
    public async Task OpenCircuit_SurvivesHandlerRotationAndOptionsReload()
    {
        using var server = Mock.Start();
        server.Given(Request.Create().WithPath("/pay").UsingGet()).RespondWith(Response.Create().WithStatusCode(500));
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Retry:Enabled"] = "false",
            ["CircuitBreaker:MinimumThroughput"] = "1",
        }).Build();
        var primaryHandlersBuilt = 0;
        var services = new ServiceCollection();
        services.AddHttpClient("payment", c => c.BaseAddress = server.BaseAddress())
            .ConfigurePrimaryHttpMessageHandler(() =>
            {
                Interlocked.Increment(ref primaryHandlersBuilt);
                return new SocketsHttpHandler();
            })
            .SetHandlerLifetime(TimeSpan.FromSeconds(1))
            .AddHttpResilience(config);
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        using (await factory.CreateClient("payment").GetAsync("/pay")) { }

        config["AttemptTimeout"] = "00:00:01"; // a reload while open
        config.Reload();

        // Bounded: handlers expire after 1 s; keep asking until the factory has built a fresh chain (at most 15 s).
        for (var i = 0; i < 75 && Volatile.Read(ref primaryHandlersBuilt) < 2; i++)
        {
            await Assert.ThrowsAsync<CircuitOpenException>(() => factory.CreateClient("payment").GetAsync("/pay"));
            await Task.Delay(200);
        }

        Assert.True(Volatile.Read(ref primaryHandlersBuilt) >= 2, "the factory never rotated the handler");
        await Assert.ThrowsAsync<CircuitOpenException>(() => factory.CreateClient("payment").GetAsync("/pay"));
        Assert.Single(server.LogEntries);
    }
}
