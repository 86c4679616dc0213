using System.Net;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests.Regressions;

/// <summary>
/// A probe sent to a dependency that hangs must not keep the circuit shut for the probe's whole budget: after one break
/// duration the next request probes instead, and never more than two probes are out at once.
/// </summary>
public sealed class HungProbeBlocksEveryoneForItsWholeBudgetTests
{
    [Fact]
    public async Task ProbeHangs_AfterOneMoreBreakTheNextRequestProbes_AndAThirdIsNeverSent()
    {
        using var h = new ChainHarness(o =>
        {
            o.Deadline = TimeSpan.FromSeconds(10);
            o.AttemptTimeout = TimeSpan.FromSeconds(10);
            o.Retry.Enabled = false;
            o.CircuitBreaker.MinimumThroughput = 1;
            o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(2);
        });
        h.Stub.ThenStatus(HttpStatusCode.InternalServerError).ThenHang();
        var client = h.CreateClient();
        using (await client.GetAsync("/")) { } // opens the circuit
        var circuit = h.Registry.GetOrAddCircuit(ChainHarness.ClientName, null);
        Assert.Equal(CircuitState.Open, circuit.State);

        h.Clock.Advance(TimeSpan.FromSeconds(2));
        var hung = client.GetAsync("/"); // the probe: the dependency holds it
        await h.Stub.WaitForCallsAsync(2);
        h.Clock.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync("/")); // within the break: the probe may still answer

        h.Clock.Advance(TimeSpan.FromMilliseconds(1001)); // a whole break after the probe went out
        var takeover = client.GetAsync("/");
        await h.Stub.WaitForCallsAsync(3); // a new probe was sent, 8 s before the hung one's budget ends

        h.Clock.Advance(TimeSpan.FromMilliseconds(2001)); // the new probe is past its break too, but two are out
        await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync("/"));
        Assert.Equal(3, h.Stub.CallCount);
        Assert.Equal(CircuitState.HalfOpen, circuit.State);

        h.Clock.Advance(TimeSpan.FromSeconds(6)); // the first probe's budget ends: its late outcome is ignored
        await Assert.ThrowsAnyAsync<HttpResilienceException>(() => hung);
        Assert.Equal(CircuitState.HalfOpen, circuit.State);
        var third = client.GetAsync("/"); // one probe out, and it is past its break: this request takes over
        await h.Stub.WaitForCallsAsync(4);

        h.Clock.Advance(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAnyAsync<HttpResilienceException>(() => takeover);
        await Assert.ThrowsAnyAsync<HttpResilienceException>(() => third);
        Assert.Equal(CircuitState.Open, circuit.State); // the newest probe failed: another break
        Assert.Equal(4, h.Stub.CallCount);
    }
}
