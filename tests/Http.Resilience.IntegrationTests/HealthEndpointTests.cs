using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Http.Resilience.IntegrationTests;

/// <summary>Liveness reports the service's own health only; circuits are reported on their own endpoint.</summary>
public class HealthEndpointTests
{
    private static async Task<WebApplication> StartAppAsync(Uri dependency, HealthStatus openStatus = HealthStatus.Degraded, TimeProvider? clock = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (clock is not null)
        {
            builder.Services.AddSingleton(clock); // the chain's clock: the test ends the break on cue
        }

        builder.Services.AddHttpClient("payment", c => c.BaseAddress = dependency).AddHttpResilience(o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.MinimumThroughput = 1;
            o.CircuitBreaker.BreakDuration = TimeSpan.FromMilliseconds(800);
        });
        builder.Services.AddHealthChecks().AddHttpResilienceCircuits(openCircuitStatus: openStatus);
        var app = builder.Build();
        app.MapHealthChecks("/health", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/dependencies", new HealthCheckOptions { Predicate = c => c.Tags.Contains(HttpResilienceHealthChecksBuilderExtensions.DependenciesTag) });
        app.MapGet("/pay", async (IHttpClientFactory factory) =>
        {
            try
            {
                using var response = await factory.CreateClient("payment").GetAsync("/charge");
                return Results.StatusCode((int)response.StatusCode);
            }
            catch (HttpResilienceException)
            {
                return Results.StatusCode(503);
            }
        });
        await app.StartAsync();
        return app;
    }

    [Fact]
    public async Task Circuit_ClosedOpenHalfOpenClosed_DependenciesReportIt_LivenessStaysHealthy()
    {
        using var dependency = Mock.Start();
        dependency.Given(Request.Create().WithPath("/charge")).InScenario("h").WillSetStateTo("down").RespondWith(Response.Create().WithStatusCode(200));
        dependency.Given(Request.Create().WithPath("/charge")).InScenario("h").WhenStateIs("down").WillSetStateTo("up").RespondWith(Response.Create().WithStatusCode(500));
        dependency.Given(Request.Create().WithPath("/charge")).InScenario("h").WhenStateIs("up").RespondWith(Response.Create().WithStatusCode(200));
        var clock = new FakeTimeProvider();
        await using var app = await StartAppAsync(dependency.BaseAddress(), clock: clock);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };

        var monitor = app.Services.GetRequiredService<IHttpResilienceMonitor>();
        using (await http.GetAsync("/pay")) { } // a 200: the client exists, its circuit is closed
        Assert.Equal(CircuitState.Closed, Assert.Single(monitor.GetCircuitBreakers()).State);
        Assert.Equal("Healthy", await http.GetStringAsync("/health/dependencies"));

        using (await http.GetAsync("/pay")) { } // a 500 opens the circuit
        using var open = await http.GetAsync("/health/dependencies");
        Assert.Equal(HttpStatusCode.OK, open.StatusCode); // Degraded answers 200: never pulls the instance
        Assert.Equal("Degraded", await open.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", await http.GetStringAsync("/health")); // liveness: own health only
        var report = await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        var described = Assert.IsType<string>(report.Entries["http-resilience-circuits"].Data["payment"]);
        Assert.Matches(@"^Open: break of 0\.[4-8] s \(first break\), next probe in 0\.[4-8] s$", described); // 800 ms, equal-jittered

        clock.Advance(TimeSpan.FromMilliseconds(800)); // the break ends: the circuit reads half-open
        Assert.Equal("Degraded", await http.GetStringAsync("/health/dependencies"));
        Assert.Equal(CircuitState.HalfOpen, Assert.Single(monitor.GetCircuitBreakers()).State);

        using (await http.GetAsync("/pay")) { } // the probe succeeds
        Assert.Equal("Healthy", await http.GetStringAsync("/health/dependencies"));
        Assert.Equal(3, dependency.LogEntries.Count()); // health checks never called the dependency
    }

    [Fact]
    public async Task OpenCircuitStatus_CanBeMadeUnhealthyWhenAsked()
    {
        using var dependency = Mock.Start();
        dependency.Given(Request.Create().WithPath("/charge")).RespondWith(Response.Create().WithStatusCode(503));
        await using var app = await StartAppAsync(dependency.BaseAddress(), HealthStatus.Unhealthy);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };

        using (await http.GetAsync("/pay")) { }
        using var response = await http.GetAsync("/health/dependencies");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("Healthy", await http.GetStringAsync("/health"));
    }
}
