using System.Diagnostics;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests;

public class ResilienceActivityTests
{
    [Fact]
    public async Task ResendCountListener_RunsOnlyWhileSomeoneListensToTheChainsSpans()
    {
        using var harness = new ChainHarness();
        var client = harness.CreateClient();
        using (var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == "Http.Resilience",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        })
        {
            ActivitySource.AddActivityListener(listener);
            using var traced = await client.GetAsync("/x");
            Assert.True(ResilienceActivity.IsResendListenerRunning);
        }

        // Nobody listens any more: the next request takes the untraced path and stops the listener, so HttpClient's own
        // source has no listener of ours left to keep every request of the process on its diagnostics path.
        using var untraced = await client.GetAsync("/x");
        Assert.False(ResilienceActivity.IsResendListenerRunning);
    }
}
