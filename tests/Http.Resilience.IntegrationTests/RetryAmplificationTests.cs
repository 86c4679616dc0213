using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Http.Resilience.IntegrationTests;

/// <summary>
/// Retry amplification across hops: a user's client calls A, A calls B, B calls C, each hop with its own resilience
/// layer, and C fails every request. Stacked naively, every layer retries every failure: 3 x 3 x 3 = 27 requests reach C
/// for one user request (Microsoft's standard handler, 4 attempts per hop: 64). With the chain, the layer closest to the
/// failure retries and the layers above are told not to.
/// </summary>
public class RetryAmplificationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ThreeHops_CFailsEverything_OnlyTheLayerClosestToTheFailureRetries()
    {
        var ours = await RequestsAtCPerUserRequestAsync(b => b.AddHttpResilience(Ours), signal: true);
        var naive = await RequestsAtCPerUserRequestAsync(b => b.AddHttpResilience(Ours), signal: false);
        var standard = await RequestsAtCPerUserRequestAsync(b => b.AddStandardResilienceHandler(o => o.Retry.Delay = TimeSpan.Zero), signal: false);
        output.WriteLine($"Requests at C per user request: Http.Resilience {ours}, naive stacking (MaxRetries 2 per hop) {naive}, standard handler {standard}.");

        Assert.Equal(3, ours); // B's three attempts; A and the user's client were told not to retry
        Assert.Equal(27, naive);
        Assert.Equal(64, standard);
    }

    private static void Ours(HttpResilienceOptions o)
    {
        o.Retry.MaxRetries = 2;
        o.Retry.BaseDelay = TimeSpan.FromMilliseconds(5);
    }

    private static async Task<int> RequestsAtCPerUserRequestAsync(Action<IHttpClientBuilder> resilience, bool signal)
    {
        await using var c = await LoopbackServer.StartAsync((ctx, _) =>
        {
            ctx.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return Task.CompletedTask;
        });
        await using var b = await StartHopAsync(c.BaseAddress, resilience, signal);
        await using var a = await StartHopAsync(new Uri(b.Urls.First() + "/"), resilience, signal);
        var services = new ServiceCollection();
        resilience(services.AddHttpClient("a", client => client.BaseAddress = new Uri(a.Urls.First() + "/")));
        await using var provider = services.BuildServiceProvider();

        using var response = await provider.GetRequiredService<IHttpClientFactory>().CreateClient("a").GetAsync("work");

        Assert.True((int)response.StatusCode >= 500, $"the user saw {(int)response.StatusCode}");
        return c.Hits;
    }

    /// <summary>A service that calls the next hop through its resilience layer and answers with what it got.</summary>
    private static async Task<WebApplication> StartHopAsync(Uri next, Action<IHttpClientBuilder> resilience, bool signal)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        resilience(builder.Services.AddHttpClient("next", client => client.BaseAddress = next));
        var app = builder.Build();
        app.UseDeadlinePropagation(o => o.ShouldRetryHeaderName = signal ? "X-Should-Retry" : null);
        app.MapGet("/work", async (IHttpClientFactory factory) =>
        {
            try
            {
                using var response = await factory.CreateClient("next").GetAsync("work");
                return Results.StatusCode(response.IsSuccessStatusCode ? 200 : 502);
            }
            catch (HttpRequestException)
            {
                return Results.StatusCode(503);
            }
        });
        await app.StartAsync();
        return app;
    }
}
