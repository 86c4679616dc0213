using System.Net;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.Tests;

public class ResilienceHandlerTests
{
    [Fact]
    public async Task SendAsync_ForeignHandlerBetweenTwoLayers_TheLayersBelowItStillApply()
    {
        var clock = new TestClock();
        var stub = new StubHandler();
        var foreign = new CountingHandler();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddHttpClient("c", c => c.BaseAddress = new Uri("http://127.0.0.1/"))
            .ConfigurePrimaryHttpMessageHandler(() => stub)
            .AddHttpResilience(o => o.Retry.BaseDelay = TimeSpan.Zero)
            .ConfigureAdditionalHttpMessageHandlers((handlers, _) =>
            {
                var retry = handlers.ToList().FindIndex(h => h is RetryHandler);
                handlers.Insert(retry, foreign); // between the circuit breaker and the retry
            });
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<ResilienceRegistry>().Jitter = () => 0;
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("c");
        stub.ThenStatus(HttpStatusCode.ServiceUnavailable).ThenStatus(HttpStatusCode.OK).ThenHang().ThenStatus(HttpStatusCode.OK);

        using (var response = await client.PostAsync("/", new StringContent("{}")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // the retry below the foreign handler ran
        }

        Assert.Equal(1, foreign.Calls); // one logical request passed it
        Assert.Equal(2, stub.CallCount);
        Assert.Equal(stub.Calls[0].Headers["Idempotency-Key"], stub.Calls[1].Headers["Idempotency-Key"]); // keyed above, retried below

        var hanging = client.GetAsync("/");
        Assert.Equal(TimeSpan.FromSeconds(2), await clock.NextTimerAsync()); // the attempt timeout below it too
        await stub.WaitForCallsAsync(3);
        clock.Advance(TimeSpan.FromSeconds(2));
        using var retried = await hanging;
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode); // the timed-out attempt was retried
        Assert.Equal(4, stub.CallCount);
    }

    [Fact]
    public async Task SendAsync_AttemptAnsweredAtOnce_ArmsNoTimer()
    {
        using var h = new ChainHarness();
        using var response = await h.CreateClient().GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(h.Clock.TryGetArmedTimer(out var due), $"a timer of {due} was armed");
    }

    [Fact]
    public async Task SendAsync_HandlerBelowWorksBeforeItWaits_TheAttemptTimeCountsFromTheStart()
    {
        using var h = new ChainHarness(o => o.Retry.Enabled = false);
        h.Stub.Then(async (_, ct) =>
        {
            h.Clock.Advance(TimeSpan.FromMilliseconds(500)); // synchronous work before the first wait
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        });
        var send = h.CreateClient().GetAsync("/");

        Assert.Equal(TimeSpan.FromMilliseconds(1500), await h.Clock.NextTimerAsync()); // 2 s less the 500 ms already spent
        h.Clock.Advance(TimeSpan.FromMilliseconds(1500));

        var ex = await Assert.ThrowsAsync<AttemptTimeoutException>(() => send);
        Assert.IsType<TimeoutException>(ex.InnerException);
    }

    [Fact]
    public async Task SendAsync_CallerCancelsWhileTheAttemptWaits_OperationCanceled()
    {
        using var h = new ChainHarness();
        h.Stub.ThenHang();
        using var cts = new CancellationTokenSource();
        var send = h.CreateClient().GetAsync("/", cts.Token);
        await h.Clock.NextTimerAsync(); // the attempt waits: the caller's token is linked now
        await h.Stub.WaitForCallsAsync(1);

        await cts.CancelAsync();

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
        Assert.Equal(cts.Token, ex.CancellationToken);
        Assert.Equal(1, h.Stub.CallCount);
    }

    private sealed class CountingHandler : DelegatingHandler
    {
        private int _calls;

        public int Calls => _calls;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
