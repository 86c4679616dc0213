using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Http.Resilience.IntegrationTests;

/// <summary>Timeout budgets cascade (user 5 s, A 4 s, B 3 s, C 2 s), across three in-process services on 127.0.0.1.</summary>
public class DeadlinePropagationTests
{
    private sealed record Hop(WebApplication App, ConcurrentQueue<string> SeenDeadlines) : IAsyncDisposable
    {
        public Uri Address => new(App.Urls.First() + "/");

        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }

    /// <summary>A service that records the deadline it was given, then calls the next hop (or, last, works for 10 s).</summary>
    private static async Task<Hop> StartHopAsync(Uri? next)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (next is not null)
        {
            builder.Services.AddHttpClient("next", c => c.BaseAddress = next).AddHttpResilience(o =>
            {
                o.Deadline = TimeSpan.FromSeconds(10); // generous on purpose: the inherited deadline must win
                o.AttemptTimeout = TimeSpan.FromSeconds(10);
                o.Retry.Enabled = false;
                o.DeadlinePropagation.Enabled = true;
            });
        }

        var seen = new ConcurrentQueue<string>();
        var app = builder.Build();
        app.UseDeadlinePropagation();
        app.MapGet("/work", async (HttpContext context, IServiceProvider services) =>
        {
            seen.Enqueue(context.Request.Headers["X-Request-Deadline-Ms"].ToString());
            if (next is null)
            {
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted); // the slow innermost service
                return Results.Ok();
            }

            using var response = await services.GetRequiredService<IHttpClientFactory>().CreateClient("next").GetAsync("/work", context.RequestAborted);
            return Results.StatusCode((int)response.StatusCode);
        });
        app.MapGet("/fast", () => Results.Ok()).WithDeadline(TimeSpan.FromSeconds(5));
        await app.StartAsync();
        return new Hop(app, seen);
    }

    [Fact]
    public async Task ThreeHops_InnerSeesLessTime_SlowInnermostNeverMakesTheOuterOverrun()
    {
        await using var c = await StartHopAsync(next: null);
        await using var b = await StartHopAsync(c.Address);
        await using var a = await StartHopAsync(b.Address);
        using var user = new HttpClient { BaseAddress = a.Address, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "work");
        request.Headers.Add("X-Request-Deadline-Ms", "3000");
        var watch = Stopwatch.StartNew();

        using var response = await user.SendAsync(request);

        watch.Stop();
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(2500), TimeSpan.FromSeconds(3) + TimeSpan.FromSeconds(1.5));
        var atA = long.Parse(Assert.Single(a.SeenDeadlines), System.Globalization.CultureInfo.InvariantCulture);
        var atB = long.Parse(Assert.Single(b.SeenDeadlines), System.Globalization.CultureInfo.InvariantCulture);
        var atC = long.Parse(Assert.Single(c.SeenDeadlines), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(3000, atA);
        Assert.InRange(atB, 1, atA - 100); // at least the 100 ms safety margin less at each hop
        Assert.InRange(atC, 1, atB - 100);
    }

    [Fact]
    public async Task SpentDeadline_Answers504WithoutRunningTheEndpoint()
    {
        await using var c = await StartHopAsync(next: null);
        using var user = new HttpClient { BaseAddress = c.Address, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "work");
        request.Headers.Add("X-Request-Deadline-Ms", "0");

        using var response = await user.SendAsync(request);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Empty(c.SeenDeadlines);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-5")]
    [InlineData("99999999999999999999999")]
    public async Task MalformedHeader_IsIgnored(string value)
    {
        await using var c = await StartHopAsync(next: null);
        using var user = new HttpClient { BaseAddress = c.Address, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "fast");
        request.Headers.TryAddWithoutValidation("X-Request-Deadline-Ms", value);

        using var response = await user.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
