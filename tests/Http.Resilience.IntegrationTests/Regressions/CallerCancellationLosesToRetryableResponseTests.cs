using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.IntegrationTests.Regressions;

/// <summary>
/// A handler below the chain cancels the caller's token and then returns a retryable 503 without looking at the token.
/// The caller's cancellation must win: no retry, no fallback, the 503 disposed, and an <see cref="OperationCanceledException"/>
/// that carries the caller's own token.
/// </summary>
public sealed class CallerCancellationLosesToRetryableResponseTests
{
    [Theory]
    [InlineData(3, false)]
    [InlineData(0, true)]
    [InlineData(2, true)]
    public async Task CallerCancelsWhileA503IsOnItsWay_GetsItsCancellation_NoRetryNoFallback(int maxRetries, bool fallback)
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) =>
        {
            ctx.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        var below = new CancelsTheCallerHandler();
        var fallbacks = 0;
        var services = new ServiceCollection();
        services.AddHttpClient(Clients.Name, c => c.BaseAddress = server.BaseAddress)
            .AddHttpResilience(o =>
            {
                o.Retry.MaxRetries = maxRetries;
                o.Retry.BaseDelay = TimeSpan.Zero;
                o.Fallback.Enabled = fallback;
                o.Fallback.UseResponse((_, _) =>
                {
                    Interlocked.Increment(ref fallbacks);
                    return new HttpResponseMessage(HttpStatusCode.OK);
                });
            })
            .AddHttpMessageHandler(() => below); // below the chain, above the socket
        await using var provider = services.BuildServiceProvider();
        using var cts = new CancellationTokenSource();
        below.Caller = cts;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/orders");

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => provider.GetRequiredService<IHttpClientFactory>().CreateClient(Clients.Name).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token));

        Assert.Equal(cts.Token, ex.CancellationToken);
        Assert.Equal(1, server.Hits);
        Assert.Equal(0, fallbacks);
        Assert.NotNull(below.Response);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => below.Response!.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task WithoutAnHttpClientOnTop_TheCancellationCarriesTheCallersToken()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) =>
        {
            ctx.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        var below = new CancelsTheCallerHandler();
        var services = new ServiceCollection();
        services.AddHttpClient(Clients.Name, c => c.BaseAddress = server.BaseAddress)
            .AddHttpResilience(o => o.Retry.MaxRetries = 3)
            .AddHttpMessageHandler(() => below);
        await using var provider = services.BuildServiceProvider();
        using var invoker = new HttpMessageInvoker(provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(Clients.Name), disposeHandler: false);
        using var cts = new CancellationTokenSource();
        below.Caller = cts;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseAddress, "/orders"));

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => invoker.SendAsync(request, cts.Token));

        Assert.Equal(cts.Token, ex.CancellationToken);
        Assert.Equal(1, server.Hits);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => below.Response!.Content.ReadAsStringAsync());
    }

    /// <summary>Sends the request, then cancels the caller's token and returns the response without looking at the token.</summary>
    private sealed class CancelsTheCallerHandler : DelegatingHandler
    {
        public CancellationTokenSource? Caller { get; set; }

        public HttpResponseMessage? Response { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, CancellationToken.None);
            Response = response;
            await Caller!.CancelAsync();
            return response;
        }
    }
}
