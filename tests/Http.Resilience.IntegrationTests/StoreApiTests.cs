using System.Net;
using System.Net.Http.Json;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StoreApi;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Http.Resilience.IntegrationTests;

/// <summary>The StoreApi sample, started with its own appsettings.json, against dependencies on 127.0.0.1.</summary>
public class StoreApiTests
{
    private static string SampleDirectory()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Http.Resilience.sln")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory!.FullName, "samples", "StoreApi");
    }

    [Fact]
    public async Task StoreApi_ConfiguredFromAppsettings_ChecksOutBrowsesDegradesVisiblyAndExportsMetrics()
    {
        using var payment = Mock.Start();
        payment.Given(Request.Create().WithPath("/charges").UsingPost()).InScenario("p").WillSetStateTo("up").RespondWith(Response.Create().WithStatusCode(503));
        payment.Given(Request.Create().WithPath("/charges").UsingPost()).InScenario("p").WhenStateIs("up").RespondWith(Response.Create().WithStatusCode(201));
        await using var inventory = await LoopbackServer.StartAsync((ctx, n) =>
        {
            if (n > 1)
            {
                ctx.Response.StatusCode = 500;
                return Task.CompletedTask;
            }

            ctx.Response.ContentLength = 13;
            return ctx.Response.WriteAsync("[\"teapot\",42]");
        });
        using var notifications = Mock.Start();
        notifications.Given(Request.Create().WithPath("/messages").UsingPost()).RespondWith(Response.Create().WithStatusCode(503)); // down

        await using var app = StoreApiApp.Build(
            [
                "--contentRoot", SampleDirectory(),
                "--urls", "http://127.0.0.1:0",
                $"--Dependencies:Payment={payment.BaseAddress()}",
                $"--Dependencies:Inventory={inventory.BaseAddress}",
                $"--Dependencies:Notifications={notifications.BaseAddress()}",
            ],
            b => b.Logging.ClearProviders());
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };

        Assert.Equal("Healthy", await http.GetStringAsync("/health"));
        Assert.Equal("Healthy", await http.GetStringAsync("/health/dependencies"));

        using (var checkout = await http.PostAsJsonAsync("/checkout", new Order("o-1", 42m)))
        {
            Assert.Equal(HttpStatusCode.OK, checkout.StatusCode); // one 503, retried after the configured 1 s backoff at most
        }

        var charges = payment.LogEntries.Select(e => e.RequestMessage).ToList();
        Assert.Equal(2, charges.Count);
        Assert.Single(charges.Select(c => c.Headers!["Idempotency-Key"].Single()).Distinct());
        Assert.All(charges, c => Assert.True(c.Headers!.ContainsKey("X-Request-Deadline-Ms"))); // propagation on for payment

        Assert.Equal("[\"teapot\",42]", await http.GetStringAsync("/products"));
        using (var degraded = await http.GetAsync("/products")) // inventory now fails: stale, and says so
        {
            Assert.Equal(HttpStatusCode.OK, degraded.StatusCode);
            Assert.Equal("[\"teapot\",42]", await degraded.Content.ReadAsStringAsync());
            Assert.Equal("Stale; reason=ServerError", Assert.Single(degraded.Headers.GetValues("X-Degraded")));
        }

        var inventoryHits = inventory.Hits;
        using (var stock = await http.GetAsync("/products/stock")) // same client, its own settings: live or nothing
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stock.StatusCode); // with the fallback, the stale catalog would be a 200
        }

        Assert.Equal(inventoryHits + 1, inventory.Hits); // one try, where the catalog's calls retry once

        using (var notify = await http.PostAsync("/notify", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, notify.StatusCode); // non-critical: its default fallback answers
        }

        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("http_resilience_attempt_duration_seconds", metrics, StringComparison.Ordinal);
        Assert.Contains("http_resilience_retries", metrics, StringComparison.Ordinal);
        Assert.Contains("http_resilience_fallbacks", metrics, StringComparison.Ordinal);
        Assert.Contains("http_resilience_circuit_state", metrics, StringComparison.Ordinal);
        Assert.Contains("http_resilience_client_name=\"payment\"", metrics, StringComparison.Ordinal);
        await app.StopAsync();
    }
}
