using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Http.Resilience.Tests.Helpers;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that reports each timer as it is armed (created with a due time, or given one later
/// through <see cref="ITimer.Change"/>), so a test advances time only once the code under test has started waiting (no
/// sleeps, no races): await <see cref="NextTimerAsync"/>, then <c>Advance</c>.
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
        var timer = new ReportingTimer(base.CreateTimer(callback, state, dueTime, period), _created.Writer);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            _created.Writer.TryWrite(dueTime);
        }

        return timer;
    }

    /// <summary>Returns the due time of the next timer armed (in creation order); fails after 10 s of real time.</summary>
    public async Task<TimeSpan> NextTimerAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _created.Reader.ReadAsync(cts.Token);
    }

    /// <summary>Returns <see langword="true"/> with the due time when a timer was armed that no one has read yet.</summary>
    public bool TryGetArmedTimer(out TimeSpan dueTime) => _created.Reader.TryRead(out dueTime);

    private sealed class ReportingTimer(ITimer inner, ChannelWriter<TimeSpan> armed) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            var changed = inner.Change(dueTime, period); // armed before it is reported: the test may advance the clock at once
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                armed.TryWrite(dueTime);
            }

            return changed;
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
