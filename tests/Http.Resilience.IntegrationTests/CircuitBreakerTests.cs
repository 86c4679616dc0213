using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
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
        var clock = new FakeTimeProvider(); // ends the break on cue; the dependency is real
        using var clients = new Clients(
            server.BaseAddress,
            o =>
            {
                o.Retry.Enabled = false;
                o.CircuitBreaker.MinimumThroughput = 2;
                o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(5);
            },
            timeProvider: clock);
        var client = clients.Create();
        using (await client.GetAsync("/")) { }
        using (await client.GetAsync("/")) { }
        var open = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync("/"));
        clock.Advance(open.RetryAfter!.Value); // the break ends

        var pending = Enumerable.Range(0, 10).Select(_ => Task.Run(() => client.GetAsync("/"))).ToList();
        for (var i = 0; i < 9; i++)
        {
            var done = await Task.WhenAny(pending).WaitAsync(TimeSpan.FromSeconds(15)); // the next caller turned away
            pending.Remove(done);
            await Assert.ThrowsAsync<CircuitOpenException>(() => done);
        }

        await server.WaitForHitsAsync(3); // the one probe reached the server
        Assert.Equal(3, server.Hits);
        releaseProbe.SetResult();
        var probe = await Assert.Single(pending);
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
        var expiry = new HandlerExpiryListener();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(expiry).SetMinimumLevel(LogLevel.Trace));
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

        await Assert.ThrowsAsync<CircuitOpenException>(() => factory.CreateClient("payment").GetAsync("/pay"));
        await expiry.Expired.Task.WaitAsync(TimeSpan.FromSeconds(15)); // the factory retired the first chain

        await Assert.ThrowsAsync<CircuitOpenException>(() => factory.CreateClient("payment").GetAsync("/pay")); // a new chain, still open
        Assert.Equal(2, Volatile.Read(ref primaryHandlersBuilt));
        Assert.Single(server.LogEntries);
    }
}
