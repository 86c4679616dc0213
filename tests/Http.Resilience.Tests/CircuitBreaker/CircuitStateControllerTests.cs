using Microsoft.Extensions.Time.Testing;

namespace Http.Resilience.Tests;

public class CircuitStateControllerTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly List<OnCircuitStateChangedArguments> _changes = [];

    private readonly CircuitBreakerOptions _options = new()
    {
        FailureRatio = 0.5,
        MinimumThroughput = 4,
        SamplingDuration = TimeSpan.FromSeconds(10),
        BreakDuration = TimeSpan.FromSeconds(30),
        MaxBreakDuration = TimeSpan.FromSeconds(30), // a fixed break: these rules hold for every break; the adaptive ones are tested apart
        RampUp = TimeSpan.Zero,
    };

    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30); // a probe's own budget

    private CircuitStateController CreateSut() => new("payment", null, _time, _changes.Add, static () => 0);

    private void Run(CircuitStateController sut, CircuitOutcome outcome)
    {
        var permit = sut.TryEnter(_options, Lease);
        Assert.NotEqual(CircuitPermitKind.Rejected, permit.Kind);
        sut.Complete(permit, outcome, _options);
    }

    private CircuitStateController CreateOpen()
    {
        var sut = CreateSut();
        for (var i = 0; i < 4; i++)
        {
            Run(sut, CircuitOutcome.Failure);
        }

        Assert.Equal(CircuitState.Open, sut.State);
        return sut;
    }

    [Fact]
    public void Flow_Closed_Open_HalfOpen_Closed()
    {
        var sut = CreateSut();
        Run(sut, CircuitOutcome.Success);
        Run(sut, CircuitOutcome.Failure);
        Run(sut, CircuitOutcome.Success);
        Assert.Equal(CircuitState.Closed, sut.State);
        Run(sut, CircuitOutcome.Failure); // 2 of 4 = 0.5 >= 0.5
        Assert.Equal(CircuitState.Open, sut.State);

        var rejected = sut.TryEnter(_options, Lease);
        Assert.Equal(CircuitPermitKind.Rejected, rejected.Kind);
        Assert.Equal(TimeSpan.FromSeconds(30), rejected.RetryAfter);

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(CircuitState.HalfOpen, sut.State); // as a health check reads it
        var probe = sut.TryEnter(_options, Lease);
        Assert.Equal(CircuitPermitKind.Probe, probe.Kind);
        sut.Complete(probe, CircuitOutcome.Success, _options);

        Assert.Equal(CircuitState.Closed, sut.State);
        Assert.Equal(default, sut.GetHealth()); // the window starts afresh
        Assert.Equal([CircuitState.Open, CircuitState.HalfOpen, CircuitState.Closed], _changes.Select(c => c.State));
        Assert.Equal(4, _changes[0].RequestCount);
        Assert.Equal(2, _changes[0].FailureCount);
        Assert.Equal(TimeSpan.FromSeconds(30), _changes[0].BreakDuration);
        Assert.Contains("failure ratio 0.50", _changes[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Complete_BelowMinimumThroughput_NeverOpensEvenAtFullFailure()
    {
        var sut = CreateSut();
        for (var i = 0; i < 3; i++)
        {
            Run(sut, CircuitOutcome.Failure);
        }

        Assert.Equal(CircuitState.Closed, sut.State);
        Assert.Empty(_changes);
    }

    [Fact]
    public void Complete_RatioBelowThreshold_StaysClosed()
    {
        var sut = CreateSut();
        Run(sut, CircuitOutcome.Failure);
        for (var i = 0; i < 3; i++)
        {
            Run(sut, CircuitOutcome.Success);
        }

        Run(sut, CircuitOutcome.Failure); // 2 of 5 = 0.4

        Assert.Equal(CircuitState.Closed, sut.State);
    }

    [Fact]
    public void Complete_FailuresOlderThanTheSamplingWindow_DoNotCount()
    {
        var sut = CreateSut();
        for (var i = 0; i < 3; i++)
        {
            Run(sut, CircuitOutcome.Failure);
        }

        _time.Advance(TimeSpan.FromSeconds(11));
        Run(sut, CircuitOutcome.Failure);

        Assert.Equal(CircuitState.Closed, sut.State);
        Assert.Equal(1, sut.GetHealth().Requests);
    }

    [Fact]
    public void Complete_IgnoredOutcomes_AreNotCounted()
    {
        var sut = CreateSut();
        for (var i = 0; i < 10; i++)
        {
            Run(sut, CircuitOutcome.Ignored);
        }

        Assert.Equal(0, sut.GetHealth().Requests);
    }

    [Fact]
    public async Task TryEnter_AfterBreak_ExactlyOneProbeAmongConcurrentCallers()
    {
        var sut = CreateOpen();
        _time.Advance(TimeSpan.FromSeconds(30));
        using var start = new Barrier(8);

        var permits = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            return Enumerable.Range(0, 100).Select(_ => sut.TryEnter(_options, Lease)).ToList();
        })));

        var all = permits.SelectMany(p => p).ToList();
        Assert.Single(all, p => p.Kind == CircuitPermitKind.Probe);
        Assert.Equal(799, all.Count(p => p.Kind == CircuitPermitKind.Rejected));
        Assert.All(all.Where(p => p.Kind == CircuitPermitKind.Rejected), p => Assert.Null(p.RetryAfter));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // the probe was cancelled, or ended in an error the circuit does not judge
    public void Complete_ProbeDidNotSucceed_ReopensForAnotherBreak(bool failed)
    {
        var outcome = failed ? CircuitOutcome.Failure : CircuitOutcome.Ignored;
        var sut = CreateOpen();
        _time.Advance(TimeSpan.FromSeconds(30));
        var probe = sut.TryEnter(_options, Lease);

        _time.Advance(TimeSpan.FromSeconds(2));
        sut.Complete(probe, outcome, _options);

        Assert.Equal(CircuitState.Open, sut.State);
        var rejected = sut.TryEnter(_options, Lease);
        Assert.Equal(TimeSpan.FromSeconds(30), rejected.RetryAfter);
        Assert.Equal(CircuitState.Open, _changes[^1].State);
        Assert.Contains("probe", _changes[^1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TryEnter_ProbeOutlivedItsBudget_AnotherProbeTakesOverAndTheLateOneIsIgnored()
    {
        var sut = CreateOpen();
        _time.Advance(TimeSpan.FromSeconds(30));
        var lost = sut.TryEnter(_options, Lease);
        Assert.Equal(CircuitPermitKind.Probe, lost.Kind);

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(CircuitPermitKind.Rejected, sut.TryEnter(_options, Lease).Kind);
        _time.Advance(TimeSpan.FromSeconds(1));
        var takeover = sut.TryEnter(_options, Lease);
        Assert.Equal(CircuitPermitKind.Probe, takeover.Kind);

        sut.Complete(lost, CircuitOutcome.Failure, _options); // too late: ignored
        Assert.Equal(CircuitState.HalfOpen, sut.State);
        sut.Complete(takeover, CircuitOutcome.Success, _options);
        Assert.Equal(CircuitState.Closed, sut.State);
    }

    [Fact]
    public void TryEnter_TwoProbesOutPastTheirLeases_AThirdIsRejectedUntilOneCompletes()
    {
        var sut = CreateOpen();
        var lease = TimeSpan.FromSeconds(2);
        _time.Advance(TimeSpan.FromSeconds(30));
        var first = sut.TryEnter(_options, lease);
        _time.Advance(lease);
        var second = sut.TryEnter(_options, lease);
        Assert.Equal(CircuitPermitKind.Probe, second.Kind);

        _time.Advance(lease);
        Assert.Equal(CircuitPermitKind.Rejected, sut.TryEnter(_options, lease).Kind);

        sut.Complete(first, CircuitOutcome.Failure, _options); // abandoned: ignored, but no longer out
        Assert.Equal(CircuitState.HalfOpen, sut.State);
        var third = sut.TryEnter(_options, lease);
        Assert.Equal(CircuitPermitKind.Probe, third.Kind);
        sut.Complete(second, CircuitOutcome.Success, _options); // abandoned too
        Assert.Equal(CircuitState.HalfOpen, sut.State);
        sut.Complete(third, CircuitOutcome.Success, _options);
        Assert.Equal(CircuitState.Closed, sut.State);
    }

    [Fact]
    public void Complete_RequestAdmittedWhileClosedFinishingAfterOpen_IsNotCounted()
    {
        var sut = CreateSut();
        var late = sut.TryEnter(_options, Lease);
        for (var i = 0; i < 4; i++)
        {
            Run(sut, CircuitOutcome.Failure);
        }

        sut.Complete(late, CircuitOutcome.Success, _options);

        Assert.Equal(CircuitState.Open, sut.State);
        Assert.Single(_changes);
    }

    [Fact]
    public void Complete_SamplingDurationReloaded_StartsAFreshWindowButKeepsState()
    {
        var sut = CreateSut();
        for (var i = 0; i < 3; i++)
        {
            Run(sut, CircuitOutcome.Failure);
        }

        _options.SamplingDuration = TimeSpan.FromSeconds(20);
        Run(sut, CircuitOutcome.Failure);

        Assert.Equal(1, sut.GetHealth().Requests);
        Assert.Equal(CircuitState.Closed, sut.State);
    }
}
