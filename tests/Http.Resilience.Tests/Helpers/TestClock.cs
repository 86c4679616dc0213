using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Http.Resilience.Tests.Helpers;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that reports each timer it creates, so a test advances time only once the code under
/// test has started waiting (no sleeps, no races): await <see cref="NextTimerAsync"/>, then <c>Advance</c>.
/// </summary>
internal sealed class TestClock : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();

    public TestClock()
        : base(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero))
    {
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _created.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Returns the due time of the next timer created (in creation order); fails after 10 s of real time.</summary>
    public async Task<TimeSpan> NextTimerAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _created.Reader.ReadAsync(cts.Token);
    }
}
