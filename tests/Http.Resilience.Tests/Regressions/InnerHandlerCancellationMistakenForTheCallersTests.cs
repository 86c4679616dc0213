using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests.Regressions;

/// <summary>
/// A handler below the chain that gave up on its own (a connect timeout) threw a cancellation nobody asked for, and it
/// reached the caller as if the caller had cancelled, unretried. It is a transient failure: retried, and never reported as
/// the caller's cancellation.
/// </summary>
public sealed class InnerHandlerCancellationMistakenForTheCallersTests
{
    [Fact]
    public async Task SendAsync_InnerHandlerGivesUpWithoutCancellation_IsRetriedAndNeverLooksLikeTheCallersCancellation()
    {
        using var h = new ChainHarness(o => o.Retry.BaseDelay = TimeSpan.Zero);
        h.Stub.ThenThrow(new TaskCanceledException("connect timeout", new TimeoutException()));

        var ex = await Record.ExceptionAsync(() => h.CreateClient().GetAsync("/"));

        Assert.Equal(3, h.Stub.CallCount);
        var resilience = Assert.IsType<HttpResilienceException>(ex);
        Assert.IsType<TaskCanceledException>(resilience.InnerException);
    }
}
