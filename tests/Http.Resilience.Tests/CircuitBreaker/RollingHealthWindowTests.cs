namespace Http.Resilience.Tests;

public class RollingHealthWindowTests
{
    private static readonly TimeSpan Sampling = TimeSpan.FromSeconds(10); // ten buckets of one second

    [Fact]
    public void GetHealth_CountsEverythingWithinTheWindow()
    {
        var window = new RollingHealthWindow(Sampling);
        window.Record(TimeSpan.FromSeconds(0.5), failure: true);
        window.Record(TimeSpan.FromSeconds(3), failure: false);
        window.Record(TimeSpan.FromSeconds(9.9), failure: true);

        var health = window.GetHealth(TimeSpan.FromSeconds(9.9));

        Assert.Equal(new HealthInfo(3, 2), health);
        Assert.Equal(2.0 / 3, health.FailureRatio, 6);
    }

    [Fact]
    public void GetHealth_OutcomesOlderThanTheWindowFallOut()
    {
        var window = new RollingHealthWindow(Sampling);
        window.Record(TimeSpan.FromSeconds(0.5), failure: true);
        window.Record(TimeSpan.FromSeconds(5.5), failure: true);

        Assert.Equal(2, window.GetHealth(TimeSpan.FromSeconds(9.99)).Requests);
        Assert.Equal(1, window.GetHealth(TimeSpan.FromSeconds(10)).Requests); // the first bucket slid out
        Assert.Equal(1, window.GetHealth(TimeSpan.FromSeconds(14.99)).Requests);
        Assert.Equal(0, window.GetHealth(TimeSpan.FromSeconds(15)).Requests); // the window moves a whole bucket at a time
    }

    [Fact]
    public void Record_ReusedSlotIsResetBeforeCounting()
    {
        var window = new RollingHealthWindow(Sampling);
        for (var i = 0; i < 5; i++)
        {
            window.Record(TimeSpan.FromSeconds(1.5), failure: true);
        }

        window.Record(TimeSpan.FromSeconds(11.5), failure: false); // same ring slot, ten seconds later

        Assert.Equal(new HealthInfo(1, 0), window.GetHealth(TimeSpan.FromSeconds(11.5)));
    }

    [Fact]
    public void Record_ManyOutcomesOverLongTime_KeepsConstantMemoryAndExactTotals()
    {
        var window = new RollingHealthWindow(Sampling);
        var now = TimeSpan.Zero;
        for (var i = 0; i < 100_000; i++)
        {
            now = TimeSpan.FromMilliseconds(i * 10); // 100 per second, for 1000 seconds
            window.Record(now, failure: i % 4 == 0);
        }

        var health = window.GetHealth(now);
        Assert.InRange(health.Requests, 900, 1000); // 9 to 10 buckets of 100
        Assert.Equal(0.25, health.FailureRatio, 2);
    }

    [Fact]
    public void Reset_ForgetsEverything()
    {
        var window = new RollingHealthWindow(Sampling);
        window.Record(TimeSpan.FromSeconds(1), failure: true);
        window.Reset();

        Assert.Equal(default, window.GetHealth(TimeSpan.FromSeconds(1)));
    }
}
