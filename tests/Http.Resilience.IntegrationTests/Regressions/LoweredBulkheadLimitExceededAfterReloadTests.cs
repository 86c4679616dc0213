using System.Collections.Concurrent;
using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Http.Resilience.IntegrationTests.Regressions;

/// <summary>
/// A reload that lowers <c>Bulkhead:MaxConcurrency</c> while requests are in flight: a new request may be admitted only once
/// the old ones still in flight fit the new limit, not as soon as the first of them finishes.
/// </summary>
public sealed class LoweredBulkheadLimitExceededAfterReloadTests
{
    [Fact]
    public async Task ThreeHeldThenLimitLoweredToOne_NoNewRequestUntilOnlyOneIsLeftAndFinished()
    {
        var held = new ConcurrentDictionary<int, TaskCompletionSource>();
        TaskCompletionSource Hold(int n) => held.GetOrAdd(n, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
        await using var server = await LoopbackServer.StartAsync(async (ctx, n) =>
        {
            await Hold(n).Task.WaitAsync(TimeSpan.FromSeconds(30));
            await ctx.Response.WriteAsync("ok");
        });
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HttpResilience:catalog:Deadline"] = "00:00:30",
            ["HttpResilience:catalog:AttemptTimeout"] = "00:00:30",
            ["HttpResilience:catalog:Bulkhead:MaxConcurrency"] = "3",
        }).Build();
        var services = new ServiceCollection();
        services.AddHttpClient("catalog", c => c.BaseAddress = server.BaseAddress)
            .AddHttpResilience(configuration.GetSection("HttpResilience:catalog"));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("catalog");
        var monitor = provider.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>();

        var old = Enumerable.Range(0, 3).Select(_ => client.GetAsync("/items")).ToArray();
        await server.WaitForHitsAsync(3);

        var reloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = monitor.OnChange((options, name) =>
        {
            if (name == "catalog" && options.Bulkhead.MaxConcurrency == 1)
            {
                reloaded.TrySetResult();
            }
        });
        configuration["HttpResilience:catalog:Bulkhead:MaxConcurrency"] = "1";
        configuration.Reload();
        await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(15));

        await Assert.ThrowsAsync<BulkheadRejectedException>(() => client.GetAsync("/items"));
        var remaining = old.ToList();
        for (var n = 1; n <= 3; n++)
        {
            Hold(n).SetResult();
            var finished = await Task.WhenAny(remaining);
            remaining.Remove(finished);
            using (var response = await finished)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            if (n < 3)
            {
                // 2, then 1 old request still in flight: the new limit of 1 is used.
                await Assert.ThrowsAsync<BulkheadRejectedException>(() => client.GetAsync("/items"));
            }
        }

        Hold(4).SetResult();
        using (var admitted = await client.GetAsync("/items"))
        {
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        }

        Assert.Equal(4, server.Hits); // the rejected requests never reached the server
        var bulkhead = provider.GetRequiredService<IHttpResilienceMonitor>().GetBulkheads().Single();
        Assert.Equal(0, bulkhead.Active);
    }
}
