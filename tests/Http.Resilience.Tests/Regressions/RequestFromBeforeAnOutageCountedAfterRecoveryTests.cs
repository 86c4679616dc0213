using Microsoft.Extensions.Time.Testing;

namespace Http.Resilience.Tests.Regressions;

/// <summary>
/// A slow request admitted while the circuit was closed, before an outage, that finished after the circuit had recovered
/// was counted in the fresh window, so one old failure could count against the recovered dependency. Outcomes of requests
/// admitted before the circuit last opened are not counted.
/// </summary>
public sealed class RequestFromBeforeAnOutageCountedAfterRecoveryTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    private readonly CircuitBreakerOptions _options = new()
    {
        FailureRatio = 0.5,
        MinimumThroughput = 4,
        SamplingDuration = TimeSpan.FromSeconds(10),
        BreakDuration = TimeSpan.FromSeconds(30),
        MaxBreakDuration = TimeSpan.FromSeconds(30), // a fixed break: these rules hold for every break; the adaptive ones are tested apart
        RampUp = TimeSpan.Zero,
    };

    private CircuitStateController CreateSut() => new("payment", null, _time, null, static () => 0);

    private void Run(CircuitStateController sut, CircuitOutcome outcome)
    {
        var permit = sut.TryEnter(_options, Lease);
        Assert.NotEqual(CircuitPermitKind.Rejected, permit.Kind);
        sut.Complete(permit, outcome, _options);
    }

    [Fact]
    public void Complete_RequestFromBeforeTheOutageFinishingAfterRecovery_IsNotCounted()
    {
        var sut = CreateSut();
        var slow = sut.TryEnter(_options, Lease); // admitted while closed, long before the outage
        for (var i = 0; i < 4; i++)
        {
            Run(sut, CircuitOutcome.Failure);
        }

        _time.Advance(TimeSpan.FromSeconds(30));
        var probe = sut.TryEnter(_options, Lease);
        sut.Complete(probe, CircuitOutcome.Success, _options);
        Assert.Equal(CircuitState.Closed, sut.State);

        sut.Complete(slow, CircuitOutcome.Failure, _options);

        Assert.Equal(0, sut.GetHealth().Requests); // the fresh window stays clean
    }
}
