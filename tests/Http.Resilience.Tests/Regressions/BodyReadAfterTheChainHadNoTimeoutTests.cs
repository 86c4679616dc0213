using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests.Regressions;

/// <summary>
/// The chain set <see cref="HttpClient.Timeout"/> to infinite, so reading a response body after the chain had returned had
/// no bound at all. It is now a backstop one second behind the deadline: the deadline still fires first inside the chain.
/// </summary>
public sealed class BodyReadAfterTheChainHadNoTimeoutTests
{
    [Fact]
    public async Task CreateClient_DefaultHttpClientTimeout_IsReplacedSoALongerDeadlineGoverns()
    {
        using var h = new ChainHarness(o => o.Deadline = o.AttemptTimeout = TimeSpan.FromSeconds(150));
        h.Stub.ThenHang();
        var client = h.CreateClient();
        Assert.Equal(TimeSpan.FromSeconds(151), client.Timeout); // a backstop one second behind the deadline

        var send = client.GetAsync("/");
        Assert.Equal(TimeSpan.FromSeconds(150), await h.Clock.NextTimerAsync());
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromSeconds(149));
        Assert.False(send.IsCompleted);
        h.Clock.Advance(TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<DeadlineExceededException>(() => send);
        Assert.Equal(TimeSpan.FromSeconds(150), ex.Deadline);
    }
}
