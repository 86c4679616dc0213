using System.Net;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.Configuration;

namespace Http.Resilience.Tests;

public class FaultInjectionHandlerTests
{
    private static async Task<List<int>> RunAsync(int seed, double rate, int count)
    {
        using var h = new ChainHarness(o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.Enabled = false;
            o.FaultInjection.Enabled = true;
            o.FaultInjection.FailureRate = rate;
            o.FaultInjection.FailureStatusCode = 503;
            o.FaultInjection.Seed = seed;
        });
        var client = h.CreateClient();
        var statuses = new List<int>(count);
        for (var i = 0; i < count; i++)
        {
            using var response = await client.GetAsync("/");
            statuses.Add((int)response.StatusCode);
        }

        Assert.Equal(statuses.Count(s => s == 200), h.Stub.CallCount); // an injected failure never reaches the dependency
        return statuses;
    }

    [Fact]
    public async Task SeededRun_FailureRateIsWithinToleranceAndRepeatable()
    {
        var first = await RunAsync(seed: 42, rate: 0.2, count: 10_000);
        var second = await RunAsync(seed: 42, rate: 0.2, count: 10_000);

        Assert.InRange(first.Count(s => s == 503), 1_800, 2_200);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task ExceptionMode_ThrowsAConnectionErrorThatRetriesHandle()
    {
        using var h = new ChainHarness(o =>
        {
            o.Retry.BaseDelay = TimeSpan.Zero;
            o.FaultInjection.Enabled = true;
            o.FaultInjection.FailureRate = 1;
        });

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => h.CreateClient().GetAsync("/"));

        Assert.Equal(HttpRequestError.ConnectionError, ex.HttpRequestError);
        Assert.Contains("Fault injection", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Stub.CallCount);
    }

    [Fact]
    public async Task Latency_CountsAgainstTheAttemptTimeout()
    {
        using var h = new ChainHarness(o =>
        {
            o.Retry.Enabled = false;
            o.FaultInjection.Enabled = true;
            o.FaultInjection.Latency = TimeSpan.FromSeconds(5);
        });
        var send = h.CreateClient().GetAsync("/");
        Assert.Equal(TimeSpan.FromSeconds(5), await h.Clock.NextTimerAsync()); // injected latency
        Assert.Equal(TimeSpan.FromSeconds(2), await h.Clock.NextTimerAsync()); // the attempt's, armed once the attempt waits
        h.Clock.Advance(TimeSpan.FromSeconds(2));

        var ex = await Assert.ThrowsAnyAsync<HttpResilienceException>(() => send);
        Assert.IsType<TimeoutException>(ex.InnerException);
        Assert.Equal(0, h.Stub.CallCount);
    }

    [Fact]
    public async Task RandomLatency_StaysWithinTheBound()
    {
        using var h = new ChainHarness(o =>
        {
            o.AttemptTimeout = TimeSpan.FromSeconds(10);
            o.FaultInjection.Enabled = true;
            o.FaultInjection.Latency = TimeSpan.FromSeconds(3);
            o.FaultInjection.RandomLatency = true;
            o.FaultInjection.Seed = 7;
        });
        var send = h.CreateClient().GetAsync("/");
        var delay = await h.Clock.NextTimerAsync(); // the injected latency, then the attempt's timer
        Assert.Equal(TimeSpan.FromSeconds(10), await h.Clock.NextTimerAsync());
        Assert.InRange(delay, TimeSpan.Zero, TimeSpan.FromSeconds(3));
        h.Clock.Advance(delay);

        using var response = await send;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task EnabledFromConfigurationAlone_NoCodeChange()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FaultInjection:Enabled"] = "true",
            ["FaultInjection:FailureRate"] = "1",
            ["FaultInjection:FailureStatusCode"] = "500",
            ["Retry:Enabled"] = "false",
        }).Build();
        using var h = new ChainHarness(section: config);

        using var response = await h.CreateClient().GetAsync("/");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(0, h.Stub.CallCount);
    }

    [Fact]
    public async Task NeverActiveUnlessEnabled()
    {
        using var h = new ChainHarness(o =>
        {
            o.FaultInjection.FailureRate = 1;
            o.FaultInjection.Latency = TimeSpan.FromHours(1);
        });
        var client = h.CreateClient();
        for (var i = 0; i < 50; i++)
        {
            using var response = await client.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(50, h.Stub.CallCount);
    }
}
