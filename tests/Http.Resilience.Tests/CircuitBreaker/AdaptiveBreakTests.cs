using Microsoft.Extensions.Time.Testing;

namespace Http.Resilience.Tests;

/// <summary>The break adapts: short first, doubled per failed probe up to a maximum, equal-jittered, or as long as the server asks.</summary>
public class AdaptiveBreakTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5); // a probe's own budget: longer than any break here

    private readonly FakeTimeProvider _time = new();
    private readonly List<OnCircuitStateChangedArguments> _changes = [];
    private double _jitter;

    private readonly CircuitBreakerOptions _options = new()
    {
        FailureRatio = 0.5,
        MinimumThroughput = 2,
        SamplingDuration = TimeSpan.FromSeconds(10),
        BreakDuration = TimeSpan.FromSeconds(3),
        MaxBreakDuration = TimeSpan.FromSeconds(60),
    };

    private CircuitStateController CreateOpen(TimeSpan? serverWait = null)
    {
        var sut = new CircuitStateController("payment", null, _time, _changes.Add, () => _jitter);
        for (var i = 0; i < 2; i++)
        {
            var permit = sut.TryEnter(_options, Lease);
            sut.Complete(permit, CircuitOutcome.Failure, _options, serverWait);
        }

        Assert.Equal(CircuitState.Open, sut.State);
        return sut;
    }

    /// <summary>Waits out the current break exactly: rejected a tick before its end, the probe at its end.</summary>
    private CircuitPermit ProbeAfter(CircuitStateController sut, TimeSpan expectedBreak)
    {
        _time.Advance(expectedBreak - TimeSpan.FromTicks(1));
        Assert.Equal(CircuitPermitKind.Rejected, sut.TryEnter(_options, Lease).Kind);
        _time.Advance(TimeSpan.FromTicks(1));
        var probe = sut.TryEnter(_options, Lease);
        Assert.Equal(CircuitPermitKind.Probe, probe.Kind);
        return probe;
    }

    [Theory]
    [InlineData(0.0, 1500)] // the fixed half
    [InlineData(0.5, 2250)]
    [InlineData(1.0, 3000)] // the fixed half and all of the random half
    public void FirstBreak_IsEqualJitteredBreakDuration(double jitter, int expectedMs)
    {
        _jitter = jitter;
        var sut = CreateOpen();

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), sut.RetryAfter);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), _changes[^1].BreakDuration);
        Assert.EndsWith("; first break", _changes[^1].Reason, StringComparison.Ordinal);
        ProbeAfter(sut, TimeSpan.FromMilliseconds(expectedMs));
    }

    [Fact]
    public void EachFailedProbe_DoublesTheNextBreak_UpToMaxBreakDuration()
    {
        _jitter = 1;
        var sut = CreateOpen();
        var breaks = new List<TimeSpan> { sut.RetryAfter!.Value };
        for (var i = 0; i < 6; i++)
        {
            var probe = ProbeAfter(sut, breaks[^1]);
            sut.Complete(probe, CircuitOutcome.Failure, _options);
            breaks.Add(sut.RetryAfter!.Value);
        }

        Assert.Equal([3, 6, 12, 24, 48, 60, 60], breaks.Select(b => b.TotalSeconds));
        Assert.EndsWith("; break doubled after 6 failed probe(s)", _changes[^1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void DoubledBreaks_AreEqualJitteredToo()
    {
        _jitter = 0;
        var sut = CreateOpen();
        var probe = ProbeAfter(sut, TimeSpan.FromSeconds(1.5));
        sut.Complete(probe, CircuitOutcome.Failure, _options);
        Assert.Equal(TimeSpan.FromSeconds(3), sut.RetryAfter); // half of 6 s

        _jitter = 0.5;
        probe = ProbeAfter(sut, TimeSpan.FromSeconds(3));
        sut.Complete(probe, CircuitOutcome.Ignored, _options); // a probe that did not complete fails too
        Assert.Equal(TimeSpan.FromSeconds(9), sut.RetryAfter); // 12 s: 6 fixed and half of the other 6
    }

    [Fact]
    public void SuccessfulProbe_StartsAgainFromTheFirstBreak()
    {
        _jitter = 1;
        var sut = CreateOpen();
        var probe = ProbeAfter(sut, TimeSpan.FromSeconds(3));
        sut.Complete(probe, CircuitOutcome.Failure, _options);
        probe = ProbeAfter(sut, TimeSpan.FromSeconds(6));
        sut.Complete(probe, CircuitOutcome.Success, _options);
        Assert.Equal(CircuitState.Closed, sut.State);

        for (var i = 0; i < 2; i++)
        {
            sut.Complete(sut.TryEnter(_options, Lease), CircuitOutcome.Failure, _options);
        }

        Assert.Equal(TimeSpan.FromSeconds(3), sut.RetryAfter);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void MaxBreakDurationEqualToBreakDuration_IsTheFixedBreak_NeitherJitteredNorDoubled(double jitter)
    {
        _jitter = jitter;
        _options.MaxBreakDuration = _options.BreakDuration;
        var sut = CreateOpen();
        for (var i = 0; i < 3; i++)
        {
            var probe = ProbeAfter(sut, TimeSpan.FromSeconds(3));
            sut.Complete(probe, CircuitOutcome.Failure, _options);
        }

        Assert.Equal(TimeSpan.FromSeconds(3), sut.RetryAfter);
    }

    [Theory]
    [InlineData(0.0, 7000)] // the instant the server named, never earlier
    [InlineData(1.0, 10500)] // spread over up to half as long again
    public void ServerNamedWait_OnTheResponseThatOpens_SetsTheBreak(double jitter, int expectedMs)
    {
        _jitter = jitter;
        var sut = CreateOpen(serverWait: TimeSpan.FromSeconds(7));

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), sut.RetryAfter);
        Assert.EndsWith("; the server named a wait of 7 s", _changes[^1].Reason, StringComparison.Ordinal);
        ProbeAfter(sut, TimeSpan.FromMilliseconds(expectedMs));
    }

    [Fact]
    public void ServerNamedWait_OnAFailedProbe_SetsTheBreakInsteadOfTheDoubling()
    {
        _jitter = 0;
        var sut = CreateOpen();
        var probe = ProbeAfter(sut, TimeSpan.FromSeconds(1.5));
        sut.Complete(probe, CircuitOutcome.Failure, _options, TimeSpan.FromSeconds(20));

        Assert.Equal(TimeSpan.FromSeconds(20), sut.RetryAfter);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void ServerNamedWait_IsBoundedByMaxBreakDuration(double jitter)
    {
        _jitter = jitter;
        var sut = CreateOpen(serverWait: TimeSpan.FromHours(1));

        Assert.Equal(TimeSpan.FromSeconds(60), sut.RetryAfter);
    }

    [Fact]
    public void Break_IsReportedWithItsCauseAndTheTimeToTheNextProbe()
    {
        _jitter = 1;
        var sut = CreateOpen();
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal((TimeSpan.FromSeconds(3), "first break", TimeSpan.FromSeconds(2)), sut.Break);
        var probe = ProbeAfter(sut, TimeSpan.FromSeconds(2));
        sut.Complete(probe, CircuitOutcome.Success, _options);
        Assert.Null(sut.Break);
    }
}
