using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Http.Resilience.IntegrationTests;

/// <summary>A changed appsettings.json (file provider, reloadOnChange) applies to the next request and loses no state.</summary>
public sealed class LiveReloadTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("http-resilience-reload-").FullName;

    private string SettingsPath => Path.Combine(_directory, "appsettings.json");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Settings(int catalogConcurrency) => $$"""
        {
          "HttpResilience": {
            "payment": { "Retry": { "Enabled": false }, "CircuitBreaker": { "MinimumThroughput": 1 } },
            "catalog": { "Deadline": "00:00:20", "AttemptTimeout": "00:00:20", "Bulkhead": { "MaxConcurrency": {{catalogConcurrency}} } }
          }
        }
        """;

    [Fact]
    public async Task ChangedFile_NewLimitsApplyToTheNextRequest_CircuitStateAndInFlightPermitsSurvive()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(async (ctx, _) =>
        {
            if (ctx.Request.Path.StartsWithSegments("/pay"))
            {
                ctx.Response.StatusCode = 500;
                return;
            }

            await release.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await ctx.Response.WriteAsync("ok");
        });
        await File.WriteAllTextAsync(SettingsPath, Settings(catalogConcurrency: 1));
        var configuration = new ConfigurationBuilder().AddJsonFile(SettingsPath, optional: false, reloadOnChange: true).Build();
        var services = new ServiceCollection();
        services.AddHttpClient("payment", c => c.BaseAddress = server.BaseAddress).AddHttpResilience(configuration.GetSection("HttpResilience:payment"));
        services.AddHttpClient("catalog", c => c.BaseAddress = server.BaseAddress).AddHttpResilience(configuration.GetSection("HttpResilience:catalog"));
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        var monitor = provider.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>();

        using (await factory.CreateClient("payment").GetAsync("/pay")) { } // opens payment's circuit
        var inFlight = factory.CreateClient("catalog").GetAsync("/items"); // holds catalog's only permit
        await server.WaitForHitsAsync(2);

        await Assert.ThrowsAsync<BulkheadRejectedException>(() => factory.CreateClient("catalog").GetAsync("/items"));

        var reloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = monitor.OnChange((options, name) =>
        {
            if (name == "catalog" && options.Bulkhead.MaxConcurrency == 3)
            {
                reloaded.TrySetResult();
            }
        });
        await File.WriteAllTextAsync(SettingsPath, Settings(catalogConcurrency: 3));
        await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(15));

        var next = factory.CreateClient("catalog").GetAsync("/items"); // admitted under the new limit
        await server.WaitForHitsAsync(3);

        Assert.Equal(3, server.Hits);
        await Assert.ThrowsAsync<CircuitOpenException>(() => factory.CreateClient("payment").GetAsync("/pay")); // still open
        release.SetResult();
        using (var first = await inFlight)
        using (var second = await next)
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }

        var bulkhead = provider.GetRequiredService<IHttpResilienceMonitor>().GetBulkheads().Single(b => b.ClientName == "catalog");
        Assert.Equal(3, bulkhead.MaxConcurrency);
        Assert.Equal(0, bulkhead.Active);
    }
}
