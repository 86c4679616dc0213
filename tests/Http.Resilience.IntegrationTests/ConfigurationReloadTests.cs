using System.Diagnostics.Metrics;
using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Http.Resilience.IntegrationTests;

/// <summary>
/// A reload that makes a client's configuration invalid breaks nothing: the client keeps its last valid options, and the
/// dependency health check and a gauge say so until a valid configuration arrives.
/// </summary>
public class ConfigurationReloadTests
{
    [Fact]
    public async Task InvalidReload_RequestsKeepWorking_HealthIsDegradedAndTheGaugeIsOne_UntilFixed()
    {
        await using var dependency = await LoopbackServer.StartAsync((ctx, _) => ctx.Response.WriteAsync("ok"));
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HttpResilience:payment:Retry:MaxRetries"] = "1",
        }).Build();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddHttpClient("payment", c => c.BaseAddress = dependency.BaseAddress).AddHttpResilience(config.GetSection("HttpResilience:payment"));
        builder.Services.AddHealthChecks().AddHttpResilienceCircuits();
        await using var app = builder.Build();
        app.MapHealthChecks("/health/dependencies", new HealthCheckOptions { Predicate = c => c.Tags.Contains(HttpResilienceHealthChecksBuilderExtensions.DependenciesTag) });
        app.MapGet("/pay", async (IHttpClientFactory factory) => (await factory.CreateClient("payment").GetStringAsync("/")) == "ok" ? Results.Ok() : Results.StatusCode(500));
        await app.StartAsync();
        using var user = new HttpClient { BaseAddress = new Uri(app.Urls.First() + "/"), Timeout = TimeSpan.FromSeconds(30) };
        using var gauge = new MetricCollector<int>(app.Services.GetRequiredService<IMeterFactory>(), "Http.Resilience", "http.resilience.configuration.rejected");
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("pay")).StatusCode);

        config["HttpResilience:payment:Retry:MaxRetries"] = "-1";
        Reload(config);

        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("pay")).StatusCode); // still served, on the last valid options
        using (var health = await user.GetAsync("health/dependencies"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode); // Degraded is 200 unless status codes are mapped
            Assert.Equal("Degraded", await health.Content.ReadAsStringAsync());
        }

        gauge.RecordObservableInstruments();
        Assert.Equal(1, gauge.LastMeasurement!.Value);
        Assert.Equal("payment", gauge.LastMeasurement.Tags["http.resilience.client.name"]);

        config["HttpResilience:payment:Retry:MaxRetries"] = "2";
        Reload(config);
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("pay")).StatusCode);

        Assert.Equal("Healthy", await user.GetStringAsync("health/dependencies"));
        gauge.RecordObservableInstruments();
        Assert.Equal(0, gauge.LastMeasurement!.Value);
        Assert.Equal(2, app.Services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get("payment").Retry.MaxRetries);
    }

    /// <summary>The options monitor's own listener rebuilds the options on reload and throws when they are invalid.</summary>
    private static void Reload(IConfigurationRoot config)
    {
        try
        {
            config.Reload();
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
        }
        catch (OptionsValidationException)
        {
        }
    }
}
